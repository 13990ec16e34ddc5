"""The support console as an agent uses it: a browser page on the real app served over HTTP, a
logged-in user of some role, and the same by httpx for tests that need no browser.

The browser is Debian's headless Chromium, driven by Playwright (which never downloads one here).
Every browser context and httpx client comes from an address of its own (X-Forwarded-For, which
uvicorn trusts from loopback; the ASGI transport's client), so one test's failed logins never
lock another test out.
"""

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page

from api.main import create_app
from db.console_users import ConsoleUserRepository
from db.session import SessionFactory
from security.passwords import hash_password
from security.roles import Role
from settings import Settings
from tests.harness.keys import bearer, issue_key
from tests.harness.servers import serve_http
from tests.harness.storefront import place

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container, as root, offline: no sandbox, no GPU, nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION = 15_000  # milliseconds Playwright waits for a page or an element
PASSWORD = "a test passphrase, not common"  # every test user's unless a test sets another
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@dataclass(frozen=True, kw_only=True)
class ConsoleUser:
    username: str
    password: str
    role: Role


@cache
def _hash(password: str) -> str:
    """Argon2 costs ~0.2 s a hash: tests share one per password."""
    return hash_password(password)


async def make_user(
    sessions: SessionFactory,
    role: Role,
    *,
    password: str = PASSWORD,
    must_change: bool = False,
    username: str | None = None,
) -> ConsoleUser:
    """A console user of `role` no other test uses, straight into the database."""
    name = username or f"{role.value}-{uuid4().hex[:10]}"
    async with sessions.begin() as session:
        await ConsoleUserRepository(session).create(
            username=name,
            role=role,
            password_hash=_hash(password),
            created_by="tests",
            now=datetime.now(UTC),
            must_change=must_change,
        )
    return ConsoleUser(username=name, password=password, role=role)


def new_address() -> str:
    """A client address of its own (TEST-NET-1 style, never routed)."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in on the console's login page; fails the test unless the console page follows."""
    await page.goto(f"{base_url}/console/login")
    form = page.get_by_role("form", name="Log in")
    await form.get_by_label("Username").fill(username)
    await form.get_by_label("Password").fill(password)
    async with page.expect_navigation():
        await form.get_by_role("button", name="Log in").click()
    if "/console/login" in page.url:
        pytest.fail(f"could not log in as {username}: {await page.content()}")


@dataclass(frozen=True, kw_only=True)
class Console:
    """One agent's browser page on the console, logged in, and the storefront API of the server."""

    url: str
    page: Page
    storefront: httpx.AsyncClient
    user: ConsoleUser

    async def place(self, body: dict[str, object]) -> str:
        """Place an order as the storefront does; its id."""
        return await place(self.storefront, body)

    async def open(self, order_id: str) -> None:
        await self.page.goto(f"{self.url}/console/orders/{order_id}")

    def form(self, name: str) -> Locator:
        """One of the page's forms, by its accessible name ("Cancel", "Hold"...)."""
        return self.page.get_by_role("form", name=name, exact=True)

    async def answer(self) -> str:
        """The answer to the last action, as the page shows it after the redirect."""
        return (await self.page.get_by_role("status").inner_text()).strip()

    async def status(self) -> str:
        return (await self.page.get_by_test_id("order-status").inner_text()).strip()

    async def reload_until(self, *statuses: str, within: float = 30.0) -> str:
        """Reload the order page until it shows one of `statuses`; fail after `within` s."""
        deadline = time.monotonic() + within
        while (shown := await self.status()) not in statuses:
            if time.monotonic() > deadline:
                pytest.fail(f"the page shows {shown}, not one of {statuses}, after {within}s")
            await asyncio.sleep(0.2)
            await self.page.reload()
        return shown


@asynccontextmanager
async def serve_console(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    role: Role | None = Role.SUPPORT,
) -> AsyncIterator[Console]:
    """The real app (lifespan and all) in uvicorn on a free loopback port, and a fresh browser
    context (its own cookies and address) on it, logged in as a new user of `role` (None: not
    logged in). uvicorn runs as a task of this loop, beside Playwright."""
    user = await make_user(sessions, role or Role.SUPPORT)
    key = await issue_key(sessions, settings, Role.STOREFRONT)
    async with (
        serve_http(settings) as url,
        httpx.AsyncClient(base_url=url, headers=bearer(key)) as storefront,
    ):
        context = await browser.new_context(extra_http_headers={"X-Forwarded-For": new_address()})
        context.set_default_timeout(ACTION)
        page = await context.new_page()
        if role is not None:
            await log_in(page, url, user.username, user.password)
        yield Console(url=url, page=page, storefront=storefront, user=user)
        await context.close()


# The console by httpx: no browser, the app in-process.


@asynccontextmanager
async def serve_console_api(
    settings: Settings, address: str | None = None, scheme: str = "http"
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, called in-process from `address` (a new one by default);
    the client keeps cookies, as a browser does, and follows no redirect by itself."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(address or new_address(), 50_000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=f"{scheme}://oms.test") as client,
    ):
        yield client


def csrf_in(page: httpx.Response) -> str:
    """The CSRF token of the first form of a console page."""
    found = CSRF.search(page.text)
    assert found is not None, f"no CSRF token in {page.url}: {page.text[:500]}"
    return found.group(1)


async def log_in_http(
    client: httpx.AsyncClient, username: str, password: str, next: str = ""
) -> httpx.Response:
    """GET the login form, POST it with its token; the answer (303 on success)."""
    form = await client.get("/console/login")
    fields = {"csrf": csrf_in(form), "username": username, "password": password, "next": next}
    return await client.post("/console/login", data=fields)


@asynccontextmanager
async def logged_in(
    settings: Settings, sessions: SessionFactory, role: Role = Role.SUPPORT
) -> AsyncIterator[httpx.AsyncClient]:
    """The console in-process (`serve_console_api`), logged in as a new user of `role`."""
    user = await make_user(sessions, role)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        yield client


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """GET the page, then POST `fields` to `action` with the page's CSRF token."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf": csrf_in(page), **fields})
