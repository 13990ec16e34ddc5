"""Finding orders in the console: by customer email (any case), by id, by status."""

from uuid import uuid4

import pytest

from tests.harness.console import Console
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.browser


async def test_search_finds_a_customers_orders_by_email_in_any_case_and_one_by_id(
    console: Console, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku = await new_sku(0)
    email = f"Ada.{uuid4().hex[:8]}@Example.com"
    customer = {"id": f"cust-{uuid4()}", "email": email, "name": "Ada <b>Lovelace</b>"}
    first = await console.place(order_body(sku, customer=customer))
    second = await console.place(order_body(sku, customer=customer))
    page = console.page

    await page.goto(f"{console.url}/console")
    await page.get_by_label("Order id, customer id or email").fill(email.upper())
    await page.get_by_role("button", name="Search").click()
    by_email = page.get_by_role("table", name="Orders").get_by_role("link")

    assert await by_email.all_inner_texts() == [second, first]  # newest first
    assert await page.get_by_text("Ada <b>Lovelace</b>").count() == 2  # escaped, not markup

    await page.get_by_label("Order id, customer id or email").fill(first)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=first).click()

    assert await page.get_by_role("heading", level=1).inner_text() == f"Order {first}"
    assert await console.status() in ("pending", "backordered")


async def test_search_by_status_narrows_a_customers_orders(
    console: Console, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku = await new_sku(0)
    customer_id = f"cust-{uuid4()}"
    customer = {"id": customer_id, "email": "ada@example.com", "name": "Ada"}
    await console.place(order_body(sku, customer=customer))
    page = console.page

    await page.goto(f"{console.url}/console?q={customer_id}&status=completed")

    assert await page.get_by_role("status").inner_text() == "No orders match."
    assert await page.get_by_label("Status").input_value() == "completed"


async def test_an_unknown_order_is_a_404_page_not_an_error(console: Console) -> None:
    response = await console.page.goto(f"{console.url}/console/orders/no-such-order")

    assert response is not None
    assert response.status == 404
    shown = await console.page.get_by_role("status").inner_text()
    assert "No order has the id no-such-order" in shown
