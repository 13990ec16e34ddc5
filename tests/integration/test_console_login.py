"""Logging in to the console by httpx: the session cookie, fixation, logout, expiry, the pre-session
CSRF token, and the security events each writes."""

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from db.console_users import ConsoleSessionRecord, SecurityEventRecord
from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import csrf_in, log_in_http, make_user, post_form, serve_console_api

pytestmark = pytest.mark.integration


async def events_of(sessions: SessionFactory, username: str) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        found = await session.execute(
            select(SecurityEventRecord.kind, SecurityEventRecord.actor)
            .where(SecurityEventRecord.username == username)
            .order_by(SecurityEventRecord.id)
        )
        return [(row.kind, row.actor) for row in found]


async def stored_sessions(sessions: SessionFactory, token: str) -> int:
    async with sessions() as session:
        found = await session.scalars(
            select(ConsoleSessionRecord).where(ConsoleSessionRecord.id_hash == digest(token))
        )
        return len(found.all())


def session_cookie(answer: httpx.Response) -> str:
    headers = [h for h in answer.headers.get_list("set-cookie") if h.startswith("oms_session=")]
    assert len(headers) == 1, answer.headers
    return headers[0]


async def test_a_login_sets_an_httponly_lax_session_cookie_stored_only_as_its_hash(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        answer = await log_in_http(client, user.username, user.password, next="/console/inventory")
        token = client.cookies["oms_session"]
        home = await client.get("/console")

    cookie = session_cookie(answer).lower()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/inventory"
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/;" in cookie or cookie.endswith("path=/")
    assert "secure" not in cookie  # plain http, not configured: a dev machine
    assert home.status_code == 200
    assert await stored_sessions(sessions, token) == 1  # by its SHA-256, never the id itself
    async with sessions() as session:
        ids = await session.scalars(select(ConsoleSessionRecord.id_hash))
        assert token not in set(ids)
    assert await events_of(sessions, user.username) == [("login", f"user:{user.username}")]


async def test_cookies_are_secure_over_https_or_when_configured(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    behind_tls = settings.model_copy(update={"cookie_secure": True})
    async with serve_console_api(settings, scheme="https") as client:
        answer = await log_in_http(client, user.username, user.password)
    async with serve_console_api(behind_tls) as client:  # TLS ends at a proxy before us
        form = await client.get("/console/login")

    assert "; secure" in session_cookie(answer).lower()
    assert "; secure" in form.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console", "/v1/orders", "/console\\@x"]
)
async def test_after_login_only_a_console_path_of_this_site_is_followed(
    settings: Settings, sessions: SessionFactory, target: str
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        answer = await log_in_http(client, user.username, user.password, next=target)

    assert answer.headers["location"] == "/console"


async def test_a_wrong_password_and_an_unknown_user_answer_alike_and_open_no_session(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        wrong = await log_in_http(client, user.username, "not the password at all")
        unknown = await log_in_http(client, f"nobody-{user.username}", user.password)
        after = await client.get("/console")

    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert "Wrong username or password." in unknown.text
    assert "oms_session" not in client.cookies
    assert after.status_code == 303
    assert await events_of(sessions, user.username) == [("login_failed", None)]


async def test_a_disabled_user_cannot_log_in(settings: Settings, sessions: SessionFactory) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    admin = await make_user(sessions, Role.ADMIN)
    async with serve_console_api(settings) as client:
        await log_in_http(client, admin.username, admin.password)
        disable = f"/console/users/{user.username}/disable"
        disabled = await post_form(client, "/console/users", disable, {})
    async with serve_console_api(settings) as client:
        refused = await log_in_http(client, user.username, user.password)

    assert disabled.status_code == 200
    assert f"Disabled {user.username}." in disabled.text
    assert refused.status_code == 401


@pytest.mark.parametrize("token", [None, "0" * 64, "stale"])
async def test_a_login_without_its_csrf_token_is_refused_before_the_password_is_checked(
    settings: Settings, sessions: SessionFactory, token: str | None
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        form = await client.get("/console/login")
        if token == "stale":  # a token of another browser's nonce
            async with serve_console_api(settings) as other:
                token = csrf_in(await other.get("/console/login"))
        fields = {"username": user.username, "password": user.password}
        answer = await client.post(
            "/console/login", data=fields | ({"csrf": token} if token else {})
        )

    assert form.status_code == 200
    assert answer.status_code == 403
    assert "oms_session" not in client.cookies
    assert await events_of(sessions, user.username) == []


async def test_a_login_makes_a_new_session_id_and_ends_the_one_the_browser_had(
    settings: Settings, sessions: SessionFactory
) -> None:
    attacker, victim = await make_user(sessions, Role.OPS), await make_user(sessions, Role.ADMIN)
    planted = "A" * 43  # an id the attacker chose, set in the victim's browser before login
    async with serve_console_api(settings) as own:
        await log_in_http(own, attacker.username, attacker.password)
        attackers = own.cookies["oms_session"]
    async with serve_console_api(settings) as client:
        client.cookies.set("oms_session", planted, domain="oms.test")
        await log_in_http(client, victim.username, victim.password)
        first = client.cookies["oms_session"]
        client.cookies.set("oms_session", attackers, domain="oms.test")  # a live one, planted
        await log_in_http(client, victim.username, victim.password)
        second = client.cookies["oms_session"]
        whose = await client.get("/console/account")

    assert len({planted, attackers, first, second}) == 4
    assert await stored_sessions(sessions, attackers) == 0  # ended: the browser presented it
    assert await stored_sessions(sessions, second) == 1
    assert f"You are <strong>{victim.username}</strong>" in whose.text


async def test_logging_out_deletes_the_session_so_a_copied_cookie_is_worthless(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.OPS)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        token = client.cookies["oms_session"]
        without_csrf = await client.post("/console/logout", data={})
        still_in = await client.get("/console")
        out = await post_form(client, "/console", "/console/logout", {})
    async with serve_console_api(settings) as copy:
        copy.cookies.set("oms_session", token, domain="oms.test")
        replayed = await copy.get("/console")

    assert without_csrf.status_code == 403
    assert still_in.status_code == 200
    assert out.status_code == 303
    assert out.headers["location"] == "/console/login"
    assert await stored_sessions(sessions, token) == 0
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/console/login?next=")
    kinds = [kind for kind, _ in await events_of(sessions, user.username)]
    assert kinds == ["login", "logout"]


@pytest.mark.parametrize("column", ["last_seen_at", "created_at"])
async def test_a_session_idle_or_old_for_too_long_is_ended(
    settings: Settings, sessions: SessionFactory, column: str
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    limit = settings.session_idle if column == "last_seen_at" else settings.session_lifetime
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        token = client.cookies["oms_session"]
        await age_session(sessions, token, column, limit + timedelta(seconds=1))
        expired = await client.get("/console/orders/some-order")

    assert expired.status_code == 303
    assert expired.headers["location"] == "/console/login?next=%2Fconsole%2Forders%2Fsome-order"
    assert await stored_sessions(sessions, token) == 0


async def test_using_a_session_restarts_its_idle_clock(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        token = client.cookies["oms_session"]
        await age_session(sessions, token, "last_seen_at", settings.session_idle * 0.9)
        used = await client.get("/console")

    assert used.status_code == 200
    assert datetime.now(UTC) - await last_seen(sessions, token) < timedelta(seconds=10)


async def test_a_user_whose_password_an_admin_set_must_change_it_first(
    settings: Settings, sessions: SessionFactory
) -> None:
    user = await make_user(sessions, Role.SUPPORT, must_change=True)
    new = "my own long passphrase"
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        elsewhere = await client.get("/console")
        fields = {"current": user.password, "new": new, "again": new}
        changed = await post_form(client, "/console/account", "/console/account", fields)
        then = await client.get("/console")
    async with serve_console_api(settings) as client:
        old = await log_in_http(client, user.username, user.password)
        fresh = await log_in_http(client, user.username, new)

    assert (elsewhere.status_code, elsewhere.headers["location"]) == (303, "/console/account")
    assert changed.status_code == 303
    assert then.status_code == 200
    assert (old.status_code, fresh.status_code) == (401, 303)


async def age_session(sessions: SessionFactory, token: str, column: str, age: timedelta) -> None:
    """Set the session's `column` to `age` ago (as if that time had passed)."""
    async with sessions.begin() as session:
        await session.execute(
            update(ConsoleSessionRecord)
            .where(ConsoleSessionRecord.id_hash == digest(token))
            .values({column: datetime.now(UTC) - age})
        )


async def last_seen(sessions: SessionFactory, token: str) -> datetime:
    async with sessions() as session:
        record = await session.get(ConsoleSessionRecord, digest(token))
        assert record is not None
        return record.last_seen_at


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
