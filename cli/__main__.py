"""`python -m cli`: API keys, console users and make run's bootstrap, from a shell.

Settings come from the environment (OMS_DATABASE_URL, OMS_SECRET_KEY), as for the API."""

import argparse
import asyncio
import sys
from pathlib import Path

from cli import bootstrap, keys, users
from db.session import create_engine, create_session_factory
from settings import get_settings


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m cli", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    keys.add_commands(commands)
    users.add_commands(commands)
    start = commands.add_parser("bootstrap", help="make run's keys and console admin")
    start.add_argument("--credentials", type=Path, required=True)
    return top


async def main(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    try:
        if args.command == "api-keys":
            return await keys.run(args, sessions, settings)
        if args.command == "users":
            return await users.run(args, sessions, settings)
        await bootstrap.bootstrap(sessions, settings, args.credentials)
        return 0
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parser().parse_args())))
