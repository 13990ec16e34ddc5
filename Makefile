# The commands people type. Needs only make and Python 3.11+: .venv gets pinned, hash-checked
# packages from requirements/ (by uv, which make bootstraps with pip); the browser tests also need
# Debian's chromium, libatomic1 and poppler-utils (make test installs them when run as root;
# make unit, poppler-utils for the invoice tests).
#   make run            the whole OMS here (embedded Temporal + PostgreSQL), Ctrl-C stops it
#   make unit           the quick loop: make lint, then the unit tests (no servers), under a minute
#   make test           make lint, compose-check, then every test (the console's in Chromium too),
#                       in two processes (TEST_WORKERS=1: one)
#   make lint           ruff check, ruff format --check, mypy
#   make compose-check  docker-compose.yml against the Compose Specification (no Docker needed)
#   make check          the data's invariants (read-only): OMS_DATABASE_URL or make run's database
#   make lock           re-pin requirements/ from pyproject.toml, versions kept (UPGRADE=1: newest)
#   make bench          throughput and latency against the stack's limits (BENCH_ARGS="--workers 2")
#   make venv           create/refresh .venv (the other targets do it when requirements/ changed)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.requirements.installed
# uv trusts the system's certificates, not only its own: a TLS-intercepting proxy works as for pip.
export UV_SYSTEM_CERTS ?= 1

.PHONY: help venv run unit test lint lock compose-check browser-deps pdf-deps bench check

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

# uv itself, with the venv's own pip: hash-checked, re-run when its pin changes.
$(UV): requirements/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "$(PYTHON) is older than 3.11: set PYTHON=/path/to/python3.11" >&2; exit 1; }
	if [ ! -x $(BIN)/python ]; then
		$(PYTHON) -m venv $(VENV) || {
			rm -rf $(VENV)
			echo "'$(PYTHON) -m venv' failed: on Debian/Ubuntu, apt-get install python3-venv" >&2
			exit 1
		}
	fi
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes -r $<
	touch $@

# Re-run only when the pins changed since the last install into this venv; sync also removes
# what the pins no longer name. Compiled to bytecode now, as pip does: not on every later import.
$(STAMP): requirements/dev.txt $(UV)
	@echo "Installing $< into $(VENV) ..."
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $<
	touch $@

run: venv
	$(BIN)/python -m devstack run

# A benchmark, not a test: it fails only when it could not measure. Results: bench-results/.
bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

unit: lint pdf-deps
	$(BIN)/pytest tests/unit

# Two processes (pytest-xdist), each with its own PostgreSQL and Temporal; a test module stays
# in one process, its module fixtures with it, and modules are handed out in collection order
# (tests/conftest.py puts the slowest first). TEST_WORKERS=1 runs it in this process alone.
TEST_WORKERS ?= 2
test: lint compose-check browser-deps
	$(BIN)/pytest $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

# Safe on a live system; exit 1 lists the violations. CHECK_ARGS=--require-terminal once idle.
check: venv
	$(BIN)/python -m db.invariants $(CHECK_ARGS)

# The Compose Specification's schema (vendored: deploy/compose-spec.json) and the references
# Compose resolves (depends_on, volumes, networks, ...), in Python: no Docker, no docker-compose.
compose-check: venv
	$(BIN)/python -m devstack.compose_check docker-compose.yml

# The invoice tests (make unit's too) render PDFs to PNG with Debian's poppler-utils (pdftoppm).
pdf-deps:
	@command -v pdftoppm >/dev/null && exit 0
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "the invoice tests need pdftoppm: sudo apt-get install poppler-utils" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends poppler-utils \
		|| { apt-get update -q && apt-get install -y -q --no-install-recommends poppler-utils; }

# The console's browser tests drive Debian's Chromium through Playwright (which never downloads a
# browser here). Playwright's bundled node driver needs libatomic1, which Chromium does not pull in.
CHROMIUM := /usr/bin/chromium
PLAYWRIGHT_DRIVER := $(BIN)/python -m playwright --version
browser-deps: venv pdf-deps
	@missing=()
	[ -x $(CHROMIUM) ] || missing+=(chromium)
	if ! out=$$($(PLAYWRIGHT_DRIVER) 2>&1) && grep -q 'libatomic\.so\.1' <<< "$$out"; then
		missing+=(libatomic1)
	fi
	if (( $${#missing[@]} )); then
		if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
			echo "make test's browser tests need $${missing[*]}: sudo apt-get install $${missing[*]}" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends "$${missing[@]}" \
			|| { apt-get update -q && apt-get install -y -q --no-install-recommends "$${missing[@]}"; }
	fi
	if ! out=$$($(PLAYWRIGHT_DRIVER) 2>&1); then
		echo "Playwright's driver does not run ($(PLAYWRIGHT_DRIVER)):" >&2
		echo "$$out" >&2
		exit 1
	fi

# runtime.txt is the Docker image's; dev.txt, .venv's, adds the extras (embedded, dev, bench) at
# the same versions; uv.txt pins the uv that make bootstraps. Existing pins are kept.
LOCK = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: $(UV)
	$(LOCK) pyproject.toml -o requirements/runtime.txt
	$(LOCK) pyproject.toml --all-extras -c requirements/runtime.txt -o requirements/dev.txt
	echo uv | $(LOCK) - -c requirements/dev.txt -o requirements/uv.txt
	pins() { grep -c '==' "requirements/$$1.txt"; }
	echo "requirements/: $$(pins runtime) runtime pins, $$(pins dev) in all"
