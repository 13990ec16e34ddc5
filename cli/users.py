"""`python -m cli users create|list|disable|enable|reset-password`: the console's users from a
shell (the first admin of an install, scripts), as an admin does on /console/users.

Passwords are read from a prompt (getpass, asked twice) or, with `--password-stdin`, from the
first line of standard input; `--generate` makes one and prints it once. They follow the console's
rules (security/passwords.py). A password set here must be changed by its user at their next
login, except the one `ensure_user` gives make run's admin (written to .oms/, for its owner).
"""

import argparse
import getpass
import sys
from typing import TextIO

from accounts import Refusal, create_user, set_disabled, set_password
from db.console_users import ConsoleUserRecord, ConsoleUserRepository
from db.session import SessionFactory
from security.passwords import CONSOLE_ROLES, generate_password, normalize_username
from security.roles import Role
from settings import Settings

ACTOR = "cli"
REFUSED = 2


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    users = commands.add_parser("users", help="create, list, disable, enable console users")
    verbs = users.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="a new console user")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=[role.value for role in CONSOLE_ROLES])
    _password_options(create)
    verbs.add_parser("list", help="every console user, with role and state")
    for verb, text in (
        ("disable", "end their sessions, refuse logins"),
        ("enable", "allow logins"),
    ):
        verbs.add_parser(verb, help=text).add_argument("username")
    reset = verbs.add_parser("reset-password", help="a new password the user must change")
    reset.add_argument("username")
    _password_options(reset)


def _password_options(parser: argparse.ArgumentParser) -> None:
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    given.add_argument("--generate", action="store_true", help="make one and print it once")


async def run(args: argparse.Namespace, sessions: SessionFactory, settings: Settings) -> int:
    """Carry out one `users` command; 0 when done, 2 for a refused request."""
    del settings  # passwords are hashed with a per-hash salt: no server secret involved
    try:
        if args.verb == "list":
            return await _list(sessions)
        username = normalize_username(args.username)
        if args.verb in ("disable", "enable"):
            await set_disabled(sessions, username, args.verb == "disable", actor=ACTOR)
            _say(f"{args.verb}d {username}")
            return 0
        password = _password(args, username)
        if args.verb == "create":
            role = Role(args.role)
            await create_user(sessions, username, role, password, actor=ACTOR, must_change=True)
            _say(f"created {username} ({args.role})")
        else:
            await set_password(sessions, username, password, actor=ACTOR, must_change=True)
            _say(f"new password for {username}")
    except Refusal as refusal:
        _say(str(refusal), sys.stderr)
        return REFUSED
    return 0


def _say(line: str, stream: TextIO | None = None) -> None:
    """One line for the operator (a CLI's output, not a log); stdout unless told."""
    (stream or sys.stdout).write(line + "\n")


def _password(args: argparse.Namespace, username: str) -> str:
    """From --generate (printed), --password-stdin, or a prompt asked twice."""
    if args.generate:
        password = generate_password()
        _say(password)  # the only time it is shown
        return password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != password:
        raise Refusal("the two passwords differ")
    return password


async def _list(sessions: SessionFactory) -> int:
    async with sessions() as session:
        for user in await ConsoleUserRepository(session).all():
            _say(f"{user.username}  {user.role}  {_state(user)}")
    return 0


def _state(user: ConsoleUserRecord) -> str:
    if user.disabled_at is not None:
        return "disabled"
    return "must change password" if user.must_change_password else "active"
