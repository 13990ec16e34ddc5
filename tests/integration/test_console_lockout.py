"""Brute force on the console's login: five failures for a user, or from an address, within the
window lock it (429, even for the right password) for a while, and the events say so."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.console_users import SecurityEventRecord
from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import log_in_http, make_user, new_address, serve_console_api

pytestmark = pytest.mark.integration

WRONG = "certainly not the password"


async def attempt(settings: Settings, username: str, password: str, address: str) -> int:
    """One login attempt from `address` in a browser of its own; the status it answers."""
    async with serve_console_api(settings, address) as client:
        return (await log_in_http(client, username, password)).status_code


async def kinds(sessions: SessionFactory, column: str, value: str) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(SecurityEventRecord.kind)
            .where(getattr(SecurityEventRecord, column) == value)
            .order_by(SecurityEventRecord.id)
        )
        return list(found)


async def test_five_failures_for_a_user_lock_them_out_even_from_other_addresses(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    failed = [await attempt(settings, user.username, WRONG, new_address()) for _ in range(5)]
    async with serve_console_api(settings) as client:
        locked = await log_in_http(client, user.username, user.password)
    other = await make_user(sessions, Role.SUPPORT)
    unaffected = await attempt(settings, other.username, other.password, new_address())

    assert failed == [401] * 5
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins" in locked.text
    assert "oms_session" not in client.cookies
    assert unaffected == 303
    assert await kinds(sessions, "username", user.username) == [
        *["login_failed"] * 5,
        "user_locked",
    ]


async def test_five_failures_from_an_address_lock_it_for_every_user(
    settings: Settings, sessions: SessionFactory
) -> None:
    address = new_address()
    guesses = [f"guess-{number}-{address}" for number in range(5)]  # users that may not exist
    failed = [await attempt(settings, name, WRONG, address) for name in guesses]
    user = await make_user(sessions, Role.SUPPORT)
    from_there = await attempt(settings, user.username, user.password, address)
    from_elsewhere = await attempt(settings, user.username, user.password, new_address())

    assert failed == [401] * 5
    assert from_there == 429
    assert from_elsewhere == 303
    assert (await kinds(sessions, "address", address))[-2:] == ["login_failed", "address_locked"]


async def test_a_good_login_starts_the_users_count_afresh(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    for _ in range(4):
        await attempt(settings, user.username, WRONG, new_address())
    good = await attempt(settings, user.username, user.password, new_address())
    more = [await attempt(settings, user.username, WRONG, new_address()) for _ in range(4)]
    still = await attempt(settings, user.username, user.password, new_address())

    assert good == 303
    assert more == [401] * 4
    assert still == 303


async def test_the_lock_ends_after_the_lockout(
    settings: Settings, sessions: SessionFactory
) -> None:
    # Long enough that the sixth attempt is still inside it on a busy machine (each attempt
    # starts an app of its own), short enough to wait out.
    brief = settings.model_copy(update={"login_lockout": timedelta(seconds=4)})
    user = await make_user(sessions, Role.SUPPORT)
    for _ in range(5):
        await attempt(brief, user.username, WRONG, new_address())
    locked = await attempt(brief, user.username, user.password, new_address())
    await asyncio.sleep(4.2)
    after = await attempt(brief, user.username, user.password, new_address())

    assert (locked, after) == (429, 303)


async def test_parallel_guesses_cannot_slip_past_the_limit(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)

    answers = await asyncio.gather(
        *(attempt(settings, user.username, WRONG, new_address()) for _ in range(8))
    )

    assert sorted(answers) == [401] * 5 + [429] * 3
    assert (await kinds(sessions, "username", user.username)).count("login_failed") == 5


async def test_security_events_cannot_be_changed_or_deleted(sessions: SessionFactory) -> None:
    for statement in (
        "UPDATE security_events SET kind = 'login' WHERE kind = 'login_failed'",
        "DELETE FROM security_events",
    ):
        async with sessions() as session:
            with pytest.raises(DBAPIError, match="security_events is append-only"):
                await session.execute(text(statement))
