"""The warehouse's inventory pages in Chromium: find a SKU, read its stock and movements, and
adjust it with a reason; a receipt wakes the orders waiting for it."""

import pytest
from playwright.async_api import Browser
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import Console, serve_console
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.browser


async def test_a_warehouse_receipt_shows_as_a_movement_and_wakes_a_backordered_order(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    sku = await new_sku(0)
    async with serve_console(settings, browser, sessions, role=Role.WAREHOUSE) as console:
        order_id = await console.place(order_body(sku, quantity=2))
        await console.open(order_id)
        await console.reload_until("backordered")
        page = console.page

        await receive_from_search(console, sku, "+5", "receipt from the supplier")

        assert await console.answer() == "Accepted: +5. On hand is 5 now."
        newest = page.get_by_role("table", name="Movements").get_by_role("row").nth(1)
        assert (await newest.inner_text()).split("\t")[1:4] == [
            "+5",
            "receipt from the supplier",
            f"user:{console.user.username}",
        ]
        await console.open(order_id)
        woken = ("reserved", "picked", "packed", "shipped", "delivered", "completed")
        assert await console.reload_until(*woken) in woken
        assert await console.form("Cancel").count() == 0  # warehouse: stock, not orders
        await page.goto(f"{console.url}/console/inventory/{sku}")
        assert await page.get_by_test_id("on-hand").inner_text() in ("5", "3")


async def receive_from_search(console: Console, sku: str, change: str, reason: str) -> None:
    """Inventory in the menu, the SKU found by its prefix, the adjustment form sent."""
    page = console.page
    await page.get_by_role("navigation").get_by_role("link", name="Inventory").click()
    await page.get_by_label("SKU starts with").fill(sku[:12].lower())
    await page.get_by_role("button", name="Find SKUs").click()
    await page.get_by_role("table", name="SKUs").get_by_role("link", name=sku).click()
    adjust = console.form("Adjust stock")
    await adjust.get_by_label("Change").fill(change)
    await adjust.get_by_label("Reason").fill(reason)
    await adjust.get_by_role("button", name="Adjust").click()


async def test_a_support_agent_reads_stock_but_is_offered_no_adjustment(
    settings: Settings, browser: Browser, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku = await new_sku(4)
    async with serve_console(settings, browser, sessions, role=Role.SUPPORT) as console:
        await console.page.goto(f"{console.url}/console/inventory/{sku}")

        stock = [
            await console.page.get_by_test_id(name).inner_text()
            for name in ("on-hand", "reserved", "available")
        ]
        assert stock == ["4", "0", "4"]
        assert await console.form("Adjust stock").count() == 0
