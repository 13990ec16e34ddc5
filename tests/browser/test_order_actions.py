"""Acting on an order from its console page: each form answers accepted or refused, visibly.

A SKU with no stock keeps an order `backordered` (it waits, cancellable and holdable) for as long
as a test needs; `payment_review_above=0` stops a reserved order on hold before picking, where
its lines can still change.
"""

import pytest
from playwright.async_api import Browser, Locator
from temporalio.worker import Worker

from db.session import SessionFactory
from devstack.network import free_port
from settings import Settings
from tests.harness.console import Console, serve_console
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.browser


async def test_cancelling_from_the_order_page_turns_the_order_cancelled(
    console: Console, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    order_id = await console.place(order_body(await new_sku(0), quantity=2))
    await console.open(order_id)
    await console.reload_until("backordered")

    cancel = console.form("Cancel")
    await cancel.get_by_label("Reason").fill("customer changed their mind")
    await cancel.get_by_role("button", name="Cancel order").click()

    assert (await console.answer()).startswith("Accepted: cancel.")
    assert await console.reload_until("cancelled") == "cancelled"
    actor = f"user:{console.user.username}"  # the logged-in user, never a typed name
    timeline = console.page.get_by_role("table", name="Status timeline")
    last = await timeline.get_by_role("row").last.inner_text()
    assert "cancelled" in last
    assert actor in last
    audit = console.page.get_by_role("table", name="Audit trail")
    assert f"cancel\t{actor}\taccepted" in await audit.inner_text()
    assert await console.page.get_by_role("form", name="Cancel").count() == 0  # final: no forms


async def test_changing_quantities_beyond_stock_is_refused_and_changes_nothing(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    reviewed = settings.model_copy(update={"payment_review_above": 0})  # held once reserved
    sku = await new_sku(3)
    async with serve_console(reviewed, browser, sessions) as console:
        order_id = await console.place(order_body(sku, quantity=2))
        await console.open(order_id)
        await console.reload_until("on_hold")

        await change_quantity(console, sku, "10")
        refusal = await console.answer()
        shown = (
            await console.form("Change quantities")
            .get_by_label(f"Quantity of {sku}", exact=True)
            .input_value()
        )

        await change_quantity(console, sku, "3")
        accepted = await console.answer()
        total = await console.page.get_by_test_id("order-total").inner_text()

    assert (
        refusal
        == f"Refused: not enough stock of {sku}: the order and its reservation are unchanged"
    )
    assert shown == "2"
    assert accepted.startswith("Accepted: quantity change.")
    assert total == "59.97 EUR"


def quantity_of(console: Console, sku: str) -> Locator:
    return console.form("Change quantities").get_by_label(f"Quantity of {sku}", exact=True)


async def change_quantity(console: Console, sku: str, quantity: str) -> None:
    form = console.form("Change quantities")
    await quantity_of(console, sku).fill(quantity)
    await form.get_by_role("button", name="Change quantities").click()


async def test_a_held_order_shows_on_hold_with_its_reason_and_a_release_returns_it(
    console: Console, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    order_id = await console.place(order_body(await new_sku(0)))
    await console.open(order_id)
    await console.reload_until("backordered")

    hold = console.form("Hold")
    await hold.get_by_label("Reason").select_option("customer_request")
    await hold.get_by_label("Note").fill("customer is travelling")
    await hold.get_by_role("button", name="Hold").click()
    held_answer, held = await console.answer(), await console.status()
    reason = await console.page.get_by_test_id("status-reason").inner_text()

    await console.form("Release").get_by_role("button", name="Release").click()

    assert held_answer.startswith("Accepted: hold.")
    assert (held, reason) == ("on_hold", "(customer_request)")
    assert (await console.answer()).startswith("Accepted: release.")
    assert await console.status() == "backordered"


async def test_a_form_submitted_twice_is_one_action(
    console: Console, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    order_id = await console.place(order_body(await new_sku(0)))
    await console.open(order_id)
    await console.reload_until("backordered")
    hold = console.form("Hold")
    fields: dict[str, str | float | bool] = {
        "key": await hold.locator("input[name=key]").input_value(),
        "csrf": await hold.locator("input[name=csrf]").input_value(),
        "reason_code": "fraud_review",
    }

    for _ in range(2):  # a double click on "Hold"
        sent = await console.page.request.post(
            f"{console.url}/console/orders/{order_id}/hold", form=fields, max_redirects=0
        )
        assert sent.status == 303
    await console.open(order_id)

    audit = console.page.get_by_role("table", name="Audit trail").get_by_role("row")
    assert await audit.count() == 2  # the header and one hold
    assert await console.status() == "on_hold"


async def test_a_form_the_order_cannot_take_shows_what_to_fix(
    console: Console, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    order_id = await console.place(order_body(await new_sku(0)))
    other_sku = await new_sku(5)
    await console.open(order_id)

    form = console.form("Change quantities")
    await form.get_by_label("SKU to add", exact=True).fill(other_sku)
    await form.get_by_label("Quantity of the SKU to add", exact=True).fill("1")
    await form.get_by_role("button", name="Change quantities").click()

    answer = await console.answer()
    assert answer.startswith("Not sent: the quantity change form needs fixing.")
    assert f"SKU '{other_sku}' is not on the order: give its unit_price to add it" in answer


async def test_an_action_while_temporal_is_down_says_so(
    settings: Settings,
    browser: Browser,
    sessions: SessionFactory,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    async with serve_console(settings, browser, sessions) as console:
        order_id = await console.place(order_body(await new_sku(0)))
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with serve_console(down, browser, sessions) as console:
        await console.open(order_id)
        cancel = console.form("Cancel")
        await cancel.get_by_label("Reason").fill("duplicate order")
        await cancel.get_by_role("button", name="Cancel order").click()

        answer = await console.answer()

    assert answer.startswith("Not done: the workflow service did not answer")


async def test_a_new_address_shows_on_the_page_and_the_temporal_link_names_the_workflow(
    console: Console,
    settings: Settings,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order_id = await console.place(order_body(await new_sku(0)))
    await console.open(order_id)
    await console.reload_until("backordered")

    form = console.form("Change the address")
    await form.get_by_label("Line 1").fill("8 Rue de Rivoli")
    await form.get_by_label("Postal code").fill("75001")
    await form.get_by_label("City").fill("Paris")
    await form.get_by_label("Country").fill("fr")
    await form.get_by_role("button", name="Change address").click()

    assert (await console.answer()).startswith("Accepted: address change.")
    shown = await console.page.get_by_role("region", name="Shipping address").inner_text()
    assert "8 Rue de Rivoli" in shown
    assert "75001 Paris\nFR" in shown
    link = console.page.get_by_role("link", name="Open in Temporal UI")
    assert await link.get_attribute("href") == (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
        f"/workflows/order-{order_id}"
    )
