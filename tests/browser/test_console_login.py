"""Logging in to the console in Chromium: the way back to the page asked for, a wrong password, the
lockout, logging out, an expired session, forms with a missing or stale CSRF token, and what
each role is offered."""

import hashlib
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser
from sqlalchemy import update

from db.console_users import ConsoleSessionRecord
from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import Console, log_in, serve_console
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.browser

WRONG = "not the password, surely"


async def submit_login(console: Console, username: str, password: str) -> None:
    form = console.page.get_by_role("form", name="Log in")
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Log in").click()


async def test_a_page_asked_for_before_logging_in_opens_after_it(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    async with serve_console(settings, browser, sessions, role=None) as console:
        order_id = await console.place(order_body(await new_sku(0)))
        await console.open(order_id)
        asked_to_log_in = console.page.url
        await submit_login(console, console.user.username, console.user.password)

        assert "/console/login?next=" in asked_to_log_in
        assert console.page.url == f"{console.url}/console/orders/{order_id}"
        assert await console.page.get_by_test_id("me").inner_text() == console.user.username


async def test_a_wrong_password_says_so_and_logs_nobody_in(
    settings: Settings, browser: Browser, sessions: SessionFactory
) -> None:
    async with serve_console(settings, browser, sessions, role=None) as console:
        await console.page.goto(f"{console.url}/console/login")
        await submit_login(console, console.user.username, WRONG)
        shown = await console.answer()
        await console.page.goto(f"{console.url}/console")

        assert shown == "Wrong username or password."
        assert "/console/login" in console.page.url


async def test_the_sixth_attempt_after_five_failures_is_locked_out(
    settings: Settings, browser: Browser, sessions: SessionFactory
) -> None:
    async with serve_console(settings, browser, sessions, role=None) as console:
        await console.page.goto(f"{console.url}/console/login")
        for _ in range(5):
            await submit_login(console, console.user.username, WRONG)
            assert await console.answer() == "Wrong username or password."
        response_of = console.page.expect_response(f"{console.url}/console/login")
        async with response_of as answer:
            await submit_login(console, console.user.username, console.user.password)
        locked = await answer.value

        assert locked.status == 429
        assert await console.page.get_by_role("heading").inner_text() == "Too many failed logins"


async def test_logging_out_ends_the_session(console: Console) -> None:
    await console.page.goto(f"{console.url}/console")
    await console.page.get_by_role("button", name="Log out").click()
    await console.page.wait_for_url(f"{console.url}/console/login")  # the redirect, fully loaded
    at_login = console.page.url
    await console.page.go_back()  # the page from history, reloaded: it asks for a login again
    await console.page.reload()

    assert at_login == f"{console.url}/console/login"
    assert "/console/login?next=" in console.page.url


async def test_an_expired_session_asks_for_a_login_and_comes_back(
    console: Console, sessions: SessionFactory, settings: Settings
) -> None:
    await console.page.goto(f"{console.url}/console/inventory")
    token = next(
        c["value"] for c in await console.page.context.cookies() if c["name"] == "oms_session"
    )
    async with sessions.begin() as session:  # as if the agent had gone for a long lunch
        await session.execute(
            update(ConsoleSessionRecord)
            .where(ConsoleSessionRecord.id_hash == hashlib.sha256(token.encode()).hexdigest())
            .values(last_seen_at=datetime.now(UTC) - settings.session_idle)
        )

    await console.page.reload()
    expired_at = console.page.url
    await submit_login(console, console.user.username, console.user.password)

    assert "/console/login?next=%2Fconsole%2Finventory" in expired_at
    assert console.page.url == f"{console.url}/console/inventory"


async def test_a_form_with_a_stale_or_missing_csrf_token_is_refused_and_changes_nothing(
    console: Console, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    order_id = await console.place(order_body(await new_sku(0)))
    await console.open(order_id)
    other_tab = await console.page.context.new_page()  # logs in anew: a new session, new tokens
    await log_in(other_tab, console.url, console.user.username, console.user.password)

    hold = console.form("Hold")
    await hold.get_by_role("button", name="Hold").click()  # the first tab's token is stale now
    stale = await console.answer()
    missing = await console.page.request.post(
        f"{console.url}/console/orders/{order_id}/hold",
        form={"reason_code": "fraud_review", "key": "b" * 32},
        max_redirects=0,
    )
    await console.open(order_id)

    assert stale.startswith("This form is out of date or was not sent from the console")
    assert missing.status == 403
    assert await console.status() == "pending"
    audit = console.page.get_by_role("table", name="Audit trail")
    assert await audit.count() == 0  # no support action yet
    await other_tab.close()


async def test_ops_sees_orders_and_stock_without_a_single_action_form(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    sku = await new_sku(0)
    async with serve_console(settings, browser, sessions, role=Role.OPS) as console:
        order_id = await console.place(order_body(sku))
        await console.open(order_id)
        order_forms = await console.page.get_by_role("form").all()
        nav = await console.page.get_by_role("navigation").inner_text()
        await console.page.goto(f"{console.url}/console/inventory/{sku}")
        sku_forms = await console.page.get_by_role("form").all()

        names = [await form.get_attribute("aria-label") for form in order_forms + sku_forms]
        assert names == ["Log out", "Log out"]
        assert nav.split() == ["Orders", "Inventory", "Returns", "Mail"]  # no Users: not an admin
        assert await console.page.get_by_test_id("on-hand").inner_text() == "0"
