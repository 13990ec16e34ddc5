"""`python -m bench` (`make bench`): start a stack of its own, measure five figures, report them.

It is a benchmark, not a test: it never fails on a number, only when it could not measure.
"""

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.options import parse_options
from bench.plot import write_png
from bench.progress import say
from bench.report import print_table, table_rows, to_json
from bench.run import Results, run_phases
from bench.stack import REPO, BenchStack
from devstack.supervisor import Stopped, Supervisor


def _measure(results: Results, logs: Path) -> None:
    """Run every phase against a fresh stack in a temp folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as workdir, Supervisor() as supervisor:
        stack = BenchStack(supervisor, Path(workdir), logs)
        say(f"bench: starting Temporal and PostgreSQL in {workdir} (logs: {logs})")
        stack.start_servers()
        asyncio.run(run_phases(stack, results))
        say("bench: stopping the stack")


def _write(results: Results, stem: Path) -> None:
    rows = table_rows(results)
    print_table(rows)
    stem.with_suffix(".json").write_text(json.dumps(to_json(results, rows), indent=2) + "\n")
    write_png(results, stem.with_suffix(".png"))
    say(f"\nbench: wrote {stem}.json and {stem}.png")
    for error in results.errors:
        say(f"bench: could not measure {error}")


def main(argv: list[str] | None = None) -> int:
    """Measure, then write the table, the JSON and the PNG; 1 if something could not be measured."""
    options = parse_options(argv)  # --out is resolved against the caller's folder first
    os.chdir(REPO)  # alembic's config, worker.py and .env are relative to the repo
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    results = Results(options)
    stem = options.out / f"bench-w{options.workers}-{results.started_at:%Y%m%dT%H%M%SZ}"
    logs = Path(f"{stem}-logs")
    logs.mkdir(parents=True, exist_ok=True)
    try:
        _measure(results, logs)
    except Stopped as signal_name:
        say(f"bench: {signal_name}: stopped")
        return 130
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        results.errors.append(f"the stack: {type(err).__name__}: {err}")
    _write(results, stem)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
