"""Ops reads a customer e-mail in Chromium: the mail catcher received it over SMTP, the Mail page
lists it, and the message's HTML part shows inside its sandboxed frame, with nothing blocked."""

from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage

from db.session import SessionFactory
from integration.mail.catcher import MailCatcher
from integration.mail.render import MailKind, render
from integration.mail.smtp import SmtpConfig, build_message, send
from security.roles import Role
from settings import Settings
from tests.harness.console import serve_console

pytestmark = pytest.mark.browser

TRACKING = "00340434161094"
ORDER = {
    "id": "ord-browser-mail",
    "channel": "web",
    "status": "shipped",
    "status_reason": None,
    "customer": {"id": "cus-1", "email": "ada@example.com", "name": "Ada Lovelace"},
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "1 Main St",
        "line2": None,
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    },
    "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1999}],
    "currency": "EUR",
    "total": 1999,
    "store_credit": 0,
    "shipments": [],
    "exchange_for": None,
    "placed_by_return": None,
    "created_at": "2026-12-07T14:00:00+00:00",
    "updated_at": "2026-12-08T09:30:00+00:00",
}


async def test_ops_opens_a_caught_mail_and_reads_its_html_part_in_the_sandboxed_frame(
    settings: Settings, browser: Browser, sessions: SessionFactory, tmp_path: Path
) -> None:
    shipment = {"carrier": "DHL", "tracking_number": TRACKING}
    data = {"order": ORDER, "shop": "Example Shop", "shipment": shipment}
    rendered = render(MailKind.SHIPPED, "en", data)
    message = build_message(
        rendered, "Ada <ada@example.com>", "Shop <shop@example.com>", "<s.1.o@example.com>"
    )
    with MailCatcher(tmp_path / "mail") as catcher:
        await send(message, SmtpConfig.from_url(catcher.url))
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
