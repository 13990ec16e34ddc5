"""The warehouse receives a return in Chromium: the parcel's tracking number finds it on the
receiving page, one unit arrives resellable and one damaged, and the return moves on to its
refund."""

import asyncio
import time
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import Console, serve_console
from tests.harness.orders import MakeOrderBody, MakeSku, OrderBody
from tests.harness.storefront import completed_order

pytestmark = pytest.mark.browser


async def test_the_warehouse_receives_one_resellable_and_one_damaged_unit_by_tracking_number(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    sku = await new_sku(5)
    async with serve_console(settings, browser, sessions, role=Role.WAREHOUSE) as console:
        order = await completed_order(console.storefront, order_body(sku, quantity=2))
        tracking = await returned_parcel(console.storefront, order)
        page = console.page
        await page.goto(f"{console.url}/console")

        await page.get_by_role("navigation").get_by_role("link", name="Receiving").click()
        await page.get_by_label("Tracking number or return id").fill(tracking)
        await page.get_by_role("button", name="Find").click()
        form = console.form("Receive")
        await form.get_by_label(f"Resellable units of {sku}").fill("1")
        await form.get_by_label(f"Damaged units of {sku}").fill("1")
        await form.get_by_role("button", name="Receive").click()
        answer = await console.answer()
        status = await reload_until_completed(console)
        row = page.get_by_role("table", name="Expected lines").get_by_role("row").nth(1)
        cells = (await row.inner_text()).split("\t")

    assert answer.startswith(f"Accepted: received 1 × {sku} resellable, 1 × {sku} damaged.")
    assert status == "completed"
    assert cells[:5] == [sku, "2", "1", "1", "0"]  # expected, resellable, damaged, still expected


async def returned_parcel(storefront: httpx.AsyncClient, order: OrderBody) -> str:
    """The customer returns both units for a refund; the tracking number of its label."""
    body = {
        "lines": [{"sku": order["lines"][0]["sku"], "quantity": 2, "reason": "changed_mind"}],
        "resolution": "refund",
    }
    headers = {"Idempotency-Key": str(uuid4())}
    asked = await storefront.post(f"/v1/orders/{order['id']}/returns", json=body, headers=headers)
    assert asked.status_code == 202, asked.text
    for _ in range(400):
        found = (await storefront.get(f"/v1/returns/{asked.json()['id']}")).json()
        if found["status"] == "awaiting_receipt":
            tracking: str = found["label"]["tracking_number"]
            return tracking
        await asyncio.sleep(0.05)
    pytest.fail(f"the return never awaited its parcel: {found}")


async def reload_until_completed(console: Console, within: float = 20.0) -> str:
    """Reload the receiving page until the return is completed (its refund done)."""
    deadline = time.monotonic() + within
    status = console.page.get_by_test_id("return-status")
    while (shown := (await status.inner_text()).strip()) != "completed":
        if time.monotonic() > deadline:
            pytest.fail(f"the return is {shown} after {within}s")
        await asyncio.sleep(0.2)
        await console.page.reload()
    return shown
