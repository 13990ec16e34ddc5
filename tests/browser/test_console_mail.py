"""Ops reads a customer e-mail in Chromium: the mail catcher received it over SMTP, the Mail page
lists it, and the message's HTML part shows inside its sandboxed frame, with nothing blocked."""

from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage

from db.session import SessionFactory
from integration.mail.catcher import MailCatcher
from security.roles import Role
from settings import Settings
from tests.harness.console import serve_console
from tests.harness.mail import send_shipped, tracking_number

pytestmark = pytest.mark.browser

TRACKING = tracking_number()


async def test_ops_opens_a_caught_mail_and_reads_its_html_part_in_the_sandboxed_frame(
    settings: Settings, browser: Browser, sessions: SessionFactory, tmp_path: Path
) -> None:
    with MailCatcher(tmp_path / "mail") as catcher:
        rendered = await send_shipped(catcher)
        catching = settings.model_copy(update={"mail_catcher_dir": catcher.directory})
        async with serve_console(catching, browser, sessions, role=Role.OPS) as console:
            page = console.page
            problems: list[str] = []

            def note(logged: ConsoleMessage) -> None:
                if logged.type in ("error", "warning"):  # a blocked load or a CSP violation
                    problems.append(logged.text)

            page.on("console", note)
            await page.goto(f"{console.url}/console")
            await page.get_by_role("navigation").get_by_role("link", name="Mail").click()
            await (
                page.get_by_role("table", name="Messages")
                .get_by_role("link", name=rendered.subject)
                .click()
            )
            frame = page.frame_locator('iframe[title="HTML part"]')
            tracking = frame.get_by_text(f"Tracking number: {TRACKING}")
            await tracking.wait_for()
            visible = await tracking.is_visible()
            heading = await page.get_by_role("heading", level=1).inner_text()
            sandbox = await page.locator("iframe").get_attribute("sandbox")

    assert visible
    assert heading == rendered.subject
    assert sandbox == ""  # sandboxed, with no token allowing anything
    assert problems == []
