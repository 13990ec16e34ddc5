"""The support console as an agent uses it: a browser page on the real app served over HTTP.

The browser is Debian's headless Chromium, driven by Playwright (which never downloads one here).
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page

from settings import Settings
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


@dataclass(frozen=True, kw_only=True)
class Console:
    """One agent's browser page on the console, and the storefront API of the same server."""

    url: str
    page: Page
    storefront: httpx.AsyncClient

    async def place(self, body: dict[str, object]) -> str:
        """Place an order as the storefront does; its id."""
        return await place(self.storefront, body)

    async def open(self, order_id: str) -> None:
        await self.page.goto(f"{self.url}/console/orders/{order_id}")

    def form(self, name: str) -> Locator:
        """One of the order page's forms, by its accessible name ("Cancel", "Hold"...)."""
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
async def serve_console(settings: Settings, browser: Browser) -> AsyncIterator[Console]:
    """The real app (lifespan and all) in uvicorn on a free loopback port, and a fresh browser
    context (its own cookies) on it. uvicorn runs as a task of this loop, beside Playwright."""
    async with serve_http(settings) as url, httpx.AsyncClient(base_url=url) as storefront:
        context = await browser.new_context()
        context.set_default_timeout(ACTION)
        yield Console(url=url, page=await context.new_page(), storefront=storefront)
        await context.close()
