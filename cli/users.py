"""`python -m cli users create|list|disable|enable|reset-password`: the console's users from a
shell (the first admin of an install, scripts), as an admin does on /console/users.

Passwords are read from a prompt (getpass, asked twice) or, with `--password-stdin`, from the
first line of standard input; `--generate` makes one and prints it once. They follow the console's
rules (security/passwords.py). A password set here must be changed by its user at their next
login, except the one `ensure_user` gives make run's admin (written to .oms/, for its owner).
"""

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from db.console_users import (
    ConsoleUserRecord,
    ConsoleUserRepository,
    SecurityEvent,
    SecurityEventRepository,
)
from db.session import SessionFactory
from security.passwords import (
    CONSOLE_ROLES,
    generate_password,
    hash_password,
    new_user_problems,
    normalize_username,
    password_problems,
)
from security.roles import Role
from settings import Settings

ACTOR = "cli"
REFUSED = 2


class Refusal(Exception):
    """A request the rules refuse; the message says why."""


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
            await set_disabled(sessions, username, args.verb == "disable")
            _say(f"{args.verb}d {username}")
            return 0
        password = _password(args, username)
        if args.verb == "create":
            await create_user(sessions, username, Role(args.role), password, must_change=True)
            _say(f"created {username} ({args.role})")
        else:
            await set_password(sessions, username, password, must_change=True)
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


async def create_user(
    sessions: SessionFactory, username: str, role: Role, password: str, *, must_change: bool
) -> None:
    """A new user; Refusal if the rules refuse it or the name is taken."""
    username = normalize_username(username)
    if problems := new_user_problems(username, role, password):
        raise Refusal("; ".join(problems))
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        users = ConsoleUserRepository(session)
        if await users.named(username) is not None:
            raise Refusal(f"there is already a user {username!r}")
        await users.create(
            username=username,
            role=role,
            password_hash=password_hash,
            created_by=ACTOR,
            now=datetime.now(UTC),
            must_change=must_change,
        )
        await _event(session, SecurityEvent.USER_CREATED, username, role.value)


async def ensure_user(sessions: SessionFactory, username: str, role: Role, password: str) -> bool:
    """make run's bootstrap: the user, created with this password if absent; True if created."""
    async with sessions() as session:
        if await ConsoleUserRepository(session).named(normalize_username(username)) is not None:
            return False
    await create_user(sessions, username, role, password, must_change=False)
    return True


async def set_password(
    sessions: SessionFactory, username: str, password: str, *, must_change: bool = False
) -> None:
    """A new password for the user, ending their sessions; Refusal if the rules refuse it."""
    username = normalize_username(username)
    if problems := password_problems(password, username):
        raise Refusal("; ".join(problems))
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        user = await _named(session, username)
        now = datetime.now(UTC)
        await ConsoleUserRepository(session).set_password(
            user, password_hash, now, must_change=must_change
        )
        await _event(session, SecurityEvent.PASSWORD_RESET, username)


async def set_disabled(sessions: SessionFactory, username: str, disabled: bool) -> None:
    """Disable (ending their sessions) or enable the user."""
    async with sessions.begin() as session:
        user = await _named(session, username)
        await ConsoleUserRepository(session).set_disabled(user, disabled, datetime.now(UTC))
        kind = SecurityEvent.USER_DISABLED if disabled else SecurityEvent.USER_ENABLED
        await _event(session, kind, username)


async def _named(session: AsyncSession, username: str) -> ConsoleUserRecord:
    user = await ConsoleUserRepository(session).named(username)
    if user is None:
        raise Refusal(f"no user {username!r}")
    return user


async def _event(
    session: AsyncSession, kind: SecurityEvent, username: str, detail: str | None = None
) -> None:
    events = SecurityEventRepository(session)
    await events.record(kind, username=username, actor=ACTOR, detail=detail)
