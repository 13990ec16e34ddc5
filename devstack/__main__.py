"""`python -m devstack run`: the whole OMS on this machine, as `make run` starts it."""

import argparse
import os
import sys
from pathlib import Path

from devstack.stack import run
from settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the stack; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "command",
        choices=["run"],
        help="run: embedded Temporal + PostgreSQL, migrations, worker and API, until Ctrl-C",
    )
    parser.parse_args(argv)
    os.chdir(ROOT)  # .env, OMS_DATA_DIR, alembic's config and worker.py are relative to the repo
    return run(get_settings())  # read after the chdir: the repo's .env


if __name__ == "__main__":
    sys.exit(main())
