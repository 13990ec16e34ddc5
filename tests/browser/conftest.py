"""Browser tests of the support console: Debian's headless Chromium driven by Playwright.

No browser is downloaded: `make test` installs Debian's `chromium` (apt) when it is missing, and
without it every test here fails, saying so. They never skip: a console nobody tested in a
browser would pass CI silently.
"""

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from db.session import SessionFactory
from settings import Settings
from tests.harness.console import CHROMIUM, CHROMIUM_ARGS, Console, serve_console


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it, or apt-get install chromium")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """One Chromium for the session; each test gets its own context (cookies) from it."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def console(
    settings: Settings, browser: Browser, sessions: SessionFactory
) -> AsyncIterator[Console]:
    """The console of an app with this test's settings, in a fresh browser context, logged in
    as a new support user."""
    async with serve_console(settings, browser, sessions) as console:
        yield console
