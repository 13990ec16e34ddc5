"""Console accounts: the one way users are created, given a new password, disabled and enabled,
each with its security event, for the console's Users page and `python -m cli users` alike.

The rules are security/passwords.py's; `actor` names who asked (`user:<admin>`, `cli`)."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.console_users import (
    ConsoleUserRecord,
    ConsoleUserRepository,
    SecurityEvent,
    SecurityEventRepository,
)
from db.session import SessionFactory
from security.passwords import (
    hash_password,
    new_user_problems,
    normalize_username,
    password_problems,
)
from security.roles import Role


class Refusal(Exception):
    """A request the rules refuse (a weak password, a name taken, no such user): `problems`
    says why, one line each."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


async def create_user(
    sessions: SessionFactory,
    username: str,
    role: Role,
    password: str,
    *,
    actor: str,
    must_change: bool,
) -> str:
    """A new user (its normalized name); Refusal if the rules refuse it or the name is taken."""
    username = normalize_username(username)
    if problems := new_user_problems(username, role, password):
        raise Refusal(*problems)
    password_hash = await asyncio.to_thread(hash_password, password)  # slow by design
    try:
        async with sessions.begin() as session:
            await ConsoleUserRepository(session).create(
                username=username,
                role=role,
                password_hash=password_hash,
                created_by=actor,
                now=datetime.now(UTC),
                must_change=must_change,
            )
            await _event(session, SecurityEvent.USER_CREATED, username, actor, role.value)
    except IntegrityError:  # the unique name decides, also between two at once
        raise Refusal(f"there is already a user named {username}") from None
    return username


async def ensure_user(sessions: SessionFactory, username: str, role: Role, password: str) -> bool:
    """make run's bootstrap: the user, created with this password if absent; True if created."""
    async with sessions() as session:
        if await ConsoleUserRepository(session).named(normalize_username(username)) is not None:
            return False
    await create_user(sessions, username, role, password, actor="make run", must_change=False)
    return True


async def set_password(
    sessions: SessionFactory, username: str, password: str, *, actor: str, must_change: bool
) -> None:
    """A new password for the user, ending their sessions; Refusal if the rules refuse it."""
    username = normalize_username(username)
    if problems := password_problems(password, username):
        raise Refusal(*problems)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        user = await _named(session, username)
        await ConsoleUserRepository(session).set_password(
            user, password_hash, datetime.now(UTC), must_change=must_change
        )
        await _event(session, SecurityEvent.PASSWORD_RESET, username, actor)


async def set_disabled(
    sessions: SessionFactory, username: str, disabled: bool, *, actor: str
) -> None:
    """Disable (ending their sessions) or enable the user; Refusal if there is no such user."""
    username = normalize_username(username)
    async with sessions.begin() as session:
        user = await _named(session, username)
        await ConsoleUserRepository(session).set_disabled(user, disabled, datetime.now(UTC))
        kind = SecurityEvent.USER_DISABLED if disabled else SecurityEvent.USER_ENABLED
        await _event(session, kind, username, actor)


async def _named(session: AsyncSession, username: str) -> ConsoleUserRecord:
    user = await ConsoleUserRepository(session).named(username)
    if user is None:
        raise Refusal(f"there is no user named {username}")
    return user


async def _event(
    session: AsyncSession, kind: SecurityEvent, username: str, actor: str, detail: str | None = None
) -> None:
    await SecurityEventRepository(session).record(
        kind, username=username, actor=actor, detail=detail
    )
