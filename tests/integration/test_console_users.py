"""Console users, managed by an admin on /console/users and by `python -m cli users`: the
password rules, no storefront users, disabling and resets that end sessions, and their events."""

import argparse
import io
import re
import sys
from uuid import uuid4

import pytest
from sqlalchemy import select

from accounts import Refusal, create_user, ensure_user
from cli.users import add_commands, run
from db.console_users import ConsoleUserRepository, SecurityEventRecord
from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import log_in_http, make_user, post_form, serve_console_api

pytestmark = pytest.mark.integration

SHOWN = re.compile(r'data-testid="new-password">([^<]+)</code>')


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


async def test_an_admin_adds_a_user_whose_generated_password_is_shown_once_and_must_change(
    settings: Settings, sessions: SessionFactory
) -> None:
    admin, name = await make_user(sessions, Role.ADMIN), unique("Ana")
    async with serve_console_api(settings) as client:
        await log_in_http(client, admin.username, admin.password)
        fields = {"username": name, "role": "warehouse", "password": ""}
        added = await post_form(client, "/console/users", "/console/users", fields)
        listed = await client.get("/console/users")
    shown = SHOWN.search(added.text)
    assert shown is not None
    async with serve_console_api(settings) as client:
        logged = await log_in_http(client, name.upper(), shown.group(1))  # names: any case
        first = await client.get("/console/inventory")

    assert f"Created {name.lower()} (warehouse)." in added.text
    assert SHOWN.search(listed.text) is None  # this once only
    assert logged.status_code == 303
    assert first.headers["location"] == "/console/account"  # their own password first
    assert await kinds_for(sessions, name.lower()) == ["user_created", "login"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"role": "storefront"}, "console users are support, warehouse, ops, admin"),
        ({"password": "short one"}, "at least 12 characters"),
        ({"password": "PASSWORD1234"}, "one of the most common ones"),
        ({"username": "no spaces here"}, "a username is 2 to 64 of"),
        ({"role": "root"}, "there is no console role named root"),
    ],
)
async def test_an_admin_cannot_add_a_user_the_rules_refuse(
    settings: Settings, sessions: SessionFactory, fields: dict[str, str], problem: str
) -> None:
    admin = await make_user(sessions, Role.ADMIN)
    name = unique("bo")
    async with serve_console_api(settings) as client:
        await log_in_http(client, admin.username, admin.password)
        asked = {"username": name, "role": "support", "password": ""} | fields
        answer = await post_form(client, "/console/users", "/console/users", asked)

    assert answer.status_code == 400
    assert problem in answer.text
    async with sessions() as session:
        assert await ConsoleUserRepository(session).named(name) is None


async def test_disabling_a_user_ends_their_sessions_at_once(
    settings: Settings, sessions: SessionFactory
) -> None:
    admin, user = await make_user(sessions, Role.ADMIN), await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as theirs, serve_console_api(settings) as mine:
        await log_in_http(theirs, user.username, user.password)
        before = await theirs.get("/console")
        await log_in_http(mine, admin.username, admin.password)
        action = f"/console/users/{user.username}/disable"
        await post_form(mine, "/console/users", action, {})
        after = await theirs.get("/console")
        self_disable = f"/console/users/{admin.username}/disable"
        refused = await post_form(mine, "/console/users", self_disable, {})

    assert (before.status_code, after.status_code) == (200, 303)
    assert "you cannot disable yourself" in refused.text


async def test_a_reset_password_ends_the_users_sessions_and_must_be_changed(
    settings: Settings, sessions: SessionFactory
) -> None:
    admin, user = await make_user(sessions, Role.ADMIN), await make_user(sessions, Role.SUPPORT)
    new = "a reset passphrase for bo"
    async with serve_console_api(settings) as theirs, serve_console_api(settings) as mine:
        await log_in_http(theirs, user.username, user.password)
        await log_in_http(mine, admin.username, admin.password)
        action = f"/console/users/{user.username}/password"
        reset = await post_form(mine, "/console/users", action, {"password": new})
        after = await theirs.get("/console")
    async with serve_console_api(settings) as theirs:
        old = await log_in_http(theirs, user.username, user.password)
        fresh = await log_in_http(theirs, user.username, new)
        first = await theirs.get("/console")

    assert f"New password for {user.username}." in reset.text
    assert SHOWN.search(reset.text) is None  # typed by the admin: not shown back
    assert after.status_code == 303
    assert (old.status_code, fresh.status_code) == (401, 303)
    assert first.headers["location"] == "/console/account"


async def test_ensure_user_creates_make_runs_admin_once(sessions: SessionFactory) -> None:
    name = unique("admin")

    created = await ensure_user(sessions, name, Role.ADMIN, "a bootstrap passphrase")
    again = await ensure_user(sessions, name, Role.ADMIN, "another bootstrap passphrase")

    assert (created, again) == (True, False)
    async with sessions() as session:
        user = await ConsoleUserRepository(session).named(name)
    assert user is not None
    assert (user.role, user.must_change_password) == ("admin", False)


async def test_the_cli_refuses_a_storefront_user(sessions: SessionFactory) -> None:
    with pytest.raises(Refusal, match="console users are support, warehouse, ops, admin"):
        await create_user(
            sessions,
            unique("shop"),
            Role.STOREFRONT,
            "a long enough passphrase",
            actor="cli",
            must_change=True,
        )


async def test_the_cli_creates_a_user_from_stdin_and_lists_it(
    sessions: SessionFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("cy")
    top = argparse.ArgumentParser()
    add_commands(top.add_subparsers(dest="command"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("a passphrase from stdin\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)

    made = await run(
        top.parse_args(["users", "create", name, "--role", "ops", "--password-stdin"]),
        sessions,
        settings,
    )
    listed = await run(top.parse_args(["users", "list"]), sessions, settings)

    assert (made, listed) == (0, 0)
    assert f"created {name} (ops)" in out.getvalue()
    assert f"{name}  ops  must change password" in out.getvalue()


async def kinds_for(sessions: SessionFactory, username: str) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(SecurityEventRecord.kind)
            .where(SecurityEventRecord.username == username)
            .order_by(SecurityEventRecord.id)
        )
        return list(found)
