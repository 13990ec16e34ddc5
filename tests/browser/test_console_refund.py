"""Refunding from the order page in a browser: the agent fills the refund form of a completed
order, reads the answer, sees the refund succeed with its credit note after a reload, and
downloads the credit note's PDF."""

import asyncio
import time
from pathlib import Path

import pytest
from temporalio.worker import Worker

from tests.harness.console import Console
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.browser


async def test_a_unit_refunded_as_store_credit_is_listed_as_succeeded_after_a_reload(
    console: Console, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku = await new_sku(5)
    order_id = await console.place(order_body(sku, quantity=2))
    await console.open(order_id)
    await console.reload_until("completed")

    form = console.form("Refund")
    await form.get_by_label(f"Units of {sku} to refund").fill("1")
    await form.get_by_label("Reason").fill("one arrived broken")
    await form.get_by_label("Method").select_option("store_credit")
    await form.get_by_role("button", name="Refund").click()
    answer = await console.answer()
    refund = await refund_row_once_done(console)

    assert answer.startswith("Accepted: refund of 19.99 EUR as store credit.")
    cells = refund.split("\t")
    assert cells[1:6] == [
        "succeeded",
        "19.99 EUR",
        "Store credit",
        f"1 × {sku}",
        "one arrived broken",
    ]
    assert cells[7].startswith("CN-")  # its credit note, linked to its PDF
    assert cells[8] == f"user:{console.user.username}"
    assert await console.page.get_by_test_id("refunded").inner_text() == "19.99 EUR"
    credit = await console.page.get_by_test_id("store-credit").inner_text()
    assert credit == "Store credit: 19.99 EUR"

    async with console.page.expect_download() as downloading:
        await console.page.get_by_role("link", name=cells[7], exact=True).click()
    download = await downloading.value
    pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert download.suggested_filename == f"{cells[7]}.pdf"
    assert pdf.startswith(b"%PDF")


async def refund_row_once_done(console: Console, within: float = 30.0) -> str:
    """The first refund's row, reloading the page until it is no longer pending."""
    deadline = time.monotonic() + within
    while True:
        row = console.page.get_by_role("table", name="Refunds").get_by_role("row").nth(1)
        shown = await row.inner_text()
        if "pending" not in shown:
            return shown
        if time.monotonic() > deadline:
            pytest.fail(f"the refund is still pending after {within}s: {shown}")
        await asyncio.sleep(0.2)
        await console.page.reload()
