"""Returns over real HTTP with the real worker: part of an order back (one unit resellable, one
damaged) and refunded, an exchange end to end, a claim answered with a reship; stock and money
proven by `check` after each."""

import httpx
import pytest
from temporalio.worker import Worker

from db.invariants import check
from db.session import SessionFactory
from tests.harness.orders import TERMINAL, MakeOrderBody, wait_for_refund, wait_for_status
from tests.harness.returns import Json, labelled, receive, wait_for_return
from tests.harness.storefront import completed_order, stock

pytestmark = pytest.mark.e2e

PRICE = 1999  # the harness's unit price, 19.99 EUR


async def delivered(
    http: httpx.AsyncClient, order_body: MakeOrderBody, *skus: str, quantity: int = 3
) -> Json:
    return await completed_order(http, order_body(*skus, quantity=quantity))


async def inventory(http: httpx.AsyncClient, sku: str) -> Json:
    found: Json = (await http.get(f"/v1/inventory/{sku}")).json()
    return found


async def sound(sessions: SessionFactory, *order_ids: str) -> None:
    violations = await check(sessions, list(order_ids))
    assert violations == [], "\n".join(map(str, violations))


async def test_part_of_an_order_comes_back_restocked_written_off_and_refunded(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    sku = await stock(http, 10)
    order = await delivered(http, order_body, sku, quantity=3)
    before = await inventory(http, sku)

    ret = await labelled(
        http,
        order["id"],
        lines=[{"sku": sku, "quantity": 2, "reason": "damaged", "note": "box crushed"}],
        resolution="refund",
    )
    await receive(http, ret["id"], (sku, 1, "resellable"), (sku, 1, "damaged"))
    done = await wait_for_return(http, ret["id"], "completed")
    refund = await wait_for_refund(http, done["refund"]["id"])
    after = (await http.get(f"/v1/orders/{order['id']}")).json()
    stocked = await inventory(http, sku)

    assert ret["label"]["tracking_number"]
    assert [h["status"] for h in done["history"]] == [
        "requested", "approved", "awaiting_receipt", "received", "completed",
    ]  # fmt: skip
    [line] = done["lines"]
    assert (line["quantity"], line["received"], line["reason"]) == (2, 2, "damaged")
    assert (refund["status"], refund["amount"], refund["method"]) == (
        "succeeded", 2 * PRICE, "original_payment",
    )  # fmt: skip
    assert after["payment"]["refunded"] == 2 * PRICE
    assert after["lines"][0]["returned"] == 2
    assert after["returns"] == [{"id": ret["id"], "status": "completed"}]
    assert stocked["on_hand"] == before["on_hand"] + 1
    assert stocked["damaged"] == before.get("damaged", 0) + 1
    await sound(sessions, order["id"])


async def test_store_credit_for_what_came_back(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    sku = await stock(http, 10)
    order = await delivered(http, order_body, sku, quantity=2)

    ret = await labelled(
        http,
        order["id"],
        lines=[{"sku": sku, "quantity": 2, "reason": "changed_mind"}],
        resolution="store_credit",
    )
    await receive(http, ret["id"], (sku, 2, "resellable"))
    done = await wait_for_return(http, ret["id"], "completed")
    credit = (await http.get(f"/v1/customers/{order['customer']['id']}/store-credit")).json()

    assert done["refund"]["method"] == "store_credit"
    assert done["refund"]["status"] == "succeeded"
    assert _balance(credit, "EUR") == 2 * PRICE
    await sound(sessions, order["id"])


async def test_an_exchange_ships_a_new_order_linked_both_ways(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    sku, other = await stock(http, 10), await stock(http, 10)
    order = await delivered(http, order_body, sku, quantity=1)

    ret = await labelled(
        http,
        order["id"],
        lines=[{"sku": sku, "quantity": 1, "reason": "wrong_item"}],
        resolution="exchange",
        exchange_lines=[{"sku": other, "quantity": 1, "unit_price": 2499}],
    )
    await receive(http, ret["id"], (sku, 1, "resellable"))
    done = await wait_for_return(http, ret["id"], "completed")
    replacement = await wait_for_status(http, done["exchange_order_id"], *TERMINAL)

    assert replacement["status"] == "completed"
    assert replacement["exchange_for"] == order["id"]
    assert [(line["sku"], line["unit_price"]) for line in replacement["lines"]] == [(other, 2499)]
    # The returned unit pays 19.99 of it as store credit; the card the 5.00 difference.
    assert replacement["payment"]["store_credit"] == PRICE
    assert replacement["payment"]["captured"] == 2499 - PRICE
    assert done["refund"] is None  # the difference was positive: nothing to refund
    await sound(sessions, order["id"], replacement["id"])


async def test_a_lost_parcel_is_reshipped_at_no_charge(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    sku = await stock(http, 10)
    order = await delivered(http, order_body, sku, quantity=2)
    on_hand = (await inventory(http, sku))["on_hand"]

    claimed = await http.post(
        f"/v1/orders/{order['id']}/claims",
        json={"type": "missing", "lines": [{"sku": sku, "quantity": 2}], "resolution": "reship"},
    )
    assert claimed.status_code == 202, claimed.text
    claim: Json = claimed.json()
    reship = await wait_for_status(http, claim["reship_order_id"], *TERMINAL)

    assert reship["status"] == "completed"
    assert reship["total"] == 0
    assert reship["exchange_for"] == order["id"]
    assert (await inventory(http, sku))["on_hand"] == on_hand - 2  # reserved and shipped
    await sound(sessions, order["id"], reship["id"])


def _balance(credit: Json, currency: str) -> int:
    return sum(b["balance"] for b in credit["balances"] if b["currency"] == currency)
