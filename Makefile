# The commands people type. Needs only make and Python 3.11+; everything else comes from
# requirements.lock (pinned, dev tools) into .venv, or from Debian (docker-compose, chromium).
#   make run    the whole OMS on this machine (embedded Temporal + PostgreSQL), Ctrl-C stops it
#   make test   lint, type-check, validate docker-compose.yml, then pytest (console in Chromium too)
#   make lint   ruff + mypy only
#   make check  the data's invariants (read-only): OMS_DATABASE_URL, else make run's database
#   make lock   re-pin requirements.lock from pyproject.toml's dependencies (+ dev)
#   make bench  throughput and latency against the stack's own limits (BENCH_ARGS="--workers 2")
#   make venv   create/refresh .venv (the other targets do it when requirements.lock changed)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements.lock.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: help venv run test lint lock compose-check compose-cli browser-cli bench check

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

# Re-run only when requirements.lock is newer than the last install into this venv.
$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "$(PYTHON) is older than 3.11: set PYTHON=/path/to/python3.11" >&2; exit 1; }
	if [ ! -x $(BIN)/python ]; then
		$(PYTHON) -m venv $(VENV) || {
			rm -rf $(VENV)
			echo "'$(PYTHON) -m venv' failed: on Debian/Ubuntu, apt-get install python3-venv" >&2
			exit 1
		}
	fi
	echo "Installing requirements.lock into $(VENV) ..."
	$(PIP) install --quiet -r requirements.lock
	touch $@

run: venv
	$(BIN)/python -m devstack run

# A benchmark, not a test: it fails only when it could not measure. Results: bench-results/.
bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy .

test: lint compose-check browser-cli
	$(BIN)/pytest

# Safe on a live system; exit 1 lists the violations. CHECK_ARGS=--require-terminal once idle.
check: venv
	$(BIN)/python -m db.invariants $(CHECK_ARGS)

compose-check: compose-cli
	docker-compose -f docker-compose.yml config -q
	echo "docker-compose.yml: valid"

# Debian's docker-compose (1.29) only parses and validates the file here: no Docker engine needed.
compose-cli:
	@command -v docker-compose >/dev/null && exit 0
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "make test needs docker-compose: sudo apt-get install docker-compose" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends docker-compose \
		|| { apt-get update -q && apt-get install -y -q --no-install-recommends docker-compose; }

# The console's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
browser-cli:
	@[ -x $(CHROMIUM) ] && exit 0
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "make test needs Chromium at $(CHROMIUM): sudo apt-get install chromium" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends chromium \
		|| { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }

# A throwaway venv gets the newest versions pyproject.toml allows; their freeze is the new lock.
lock:
	@tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	$(PYTHON) -m venv "$$tmp/venv"
	$(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
		print(*p["dependencies"], *p["optional-dependencies"]["dev"], *p["optional-dependencies"]["bench"], sep="\n")' > "$$tmp/in.txt"
	"$$tmp/venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$$tmp/in.txt"
	{
		echo "# Pinned dependencies of pyproject.toml (dev tools included). Regenerate: make lock"
		"$$tmp/venv/bin/python" -m pip freeze --exclude-editable
	} > requirements.lock
	echo "requirements.lock: $$(grep -c '==' requirements.lock) pins"
