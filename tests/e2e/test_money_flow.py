"""Money over real HTTP with the real worker: invoices at capture, refunds to the card and as
store credit, a refused refund, and store credit spent on the next order."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.invariants import check
from db.session import SessionFactory
from settings import Settings
from tests.harness.orders import TERMINAL, MakeOrderBody, wait_for_refund, wait_for_status
from tests.harness.storefront import completed_order, place, stock
from worker import build_worker
from workflows.money_contracts import refund_workflow_id

pytestmark = pytest.mark.e2e

Json = dict[str, Any]


async def refund(http: httpx.AsyncClient, order_id: str, **body: Any) -> Json:
    answer = await http.post(f"/v1/orders/{order_id}/refunds", json={"reason": "damaged"} | body)
    assert answer.status_code == 202, answer.text
    return await wait_for_refund(http, answer.json()["id"])


async def completed(
    http: httpx.AsyncClient, order_body: MakeOrderBody, quantity: int = 3, **overrides: Any
) -> Json:
    return await completed_order(
        http, order_body(await stock(http, 10), quantity=quantity, **overrides)
    )


async def test_a_shipped_order_is_invoiced_once_with_its_tax(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await completed(http, order_body, quantity=3)  # 3 x 19.99 EUR to DE

    assert order["status"] == "completed"
    assert order["payment"] == {
        "status": "captured",
        "authorized": 0,
        "captured": 5997,
        "refunded": 0,
        "store_credit": 0,
    }
    [summary] = order["invoices"]
    assert summary["kind"] == "invoice"
    assert summary["total"] == 5997
    invoice = (await http.get(f"/v1/invoices/{summary['number']}")).json()
    assert invoice["tax_breakdown"] == [{"rate": "19", "net": 5039, "tax": 958}]
    assert (invoice["net_total"], invoice["tax_total"], invoice["total"]) == (5039, 958, 5997)
    assert invoice["paid"] == {"card": 5997, "store_credit": 0}
    assert invoice["buyer"]["name"] == "Ada"
    assert invoice["seller"]["vat_id"]


async def test_units_refunded_to_the_card_get_a_credit_note(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    order = await completed(http, order_body, quantity=3)
    sku = order["lines"][0]["sku"]

    done = await refund(
        http, order["id"], lines=[{"sku": sku, "quantity": 1}], method="original_payment"
    )
    after = (await http.get(f"/v1/orders/{order['id']}")).json()

    assert done["status"] == "succeeded"
    assert done["amount"] == 1999
    assert done["credit_note"].startswith("CN-")
    note = (await http.get(f"/v1/invoices/{done['credit_note']}")).json()
    assert note["kind"] == "credit_note"
    assert note["total"] == 1999
    assert note["refers_to"] == after["invoices"][0]["number"]
    assert after["payment"]["status"] == "partially_refunded"
    assert after["payment"]["refunded"] == 1999
    assert [r["id"] for r in after["refunds"]] == [done["id"]]
    assert await check(sessions, [order["id"]], require_terminal=True) == []


async def test_a_refused_refund_fails_and_gives_its_claim_back_for_store_credit(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    temporal_env: WorkflowEnvironment,
    sessions: SessionFactory,
) -> None:
    order = await completed(http, order_body, quantity=1, payment={"token": "tok_refund_declined"})

    failed = await refund(http, order["id"], amount=1999, method="original_payment")
    credited = await refund(http, order["id"], amount=1999, method="store_credit")
    customer = order["customer"]["id"]
    credit = (await http.get(f"/v1/customers/{customer}/store-credit")).json()

    assert failed["status"] == "failed"
    assert "closed" in failed["failure_reason"]
    assert failed["credit_note"] is None
    assert credited["status"] == "succeeded"
    assert credited["credit_note"]
    assert credit["balances"] == [{"currency": "EUR", "balance": 1999}]
    handle = temporal_env.client.get_workflow_handle(refund_workflow_id(failed["id"]))
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.search_attributes["RefundStatus"] == ["failed"]
    assert await check(sessions, [order["id"]], require_terminal=True) == []


async def test_store_credit_pays_part_of_the_next_order_and_is_redeemed(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    customer = f"cust-{uuid4()}"
    granted = await http.post(
        f"/v1/customers/{customer}/store-credit",
        json={"amount": 1000, "currency": "EUR", "reason": "sorry for the delay"},
    )
    body = order_body(await stock(http, 5), quantity=1)
    body["customer"]["id"] = customer
    body["payment"] = {"token": "tok_visa", "store_credit": 1000}

    order = await wait_for_status(http, await place(http, body), *TERMINAL)
    invoice = (await http.get(f"/v1/invoices/{order['invoices'][0]['number']}")).json()
    credit = (await http.get(f"/v1/customers/{customer}/store-credit")).json()

    assert granted.status_code == 201
    assert order["status"] == "completed"
    assert order["payment"]["captured"] == 999
    assert order["payment"]["store_credit"] == 1000
    assert invoice["paid"] == {"card": 999, "store_credit": 1000}
    assert credit["balances"] == [{"currency": "EUR", "balance": 0}]
    assert [e["kind"] for e in credit["entries"]] == ["redeemed", "held", "issued"]
    assert await check(sessions, [order["id"]], require_terminal=True) == []


async def test_a_cancelled_order_gives_its_store_credit_back(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    customer = f"cust-{uuid4()}"
    await http.post(
        f"/v1/customers/{customer}/store-credit",
        json={"amount": 5000, "currency": "EUR", "reason": "goodwill"},
    )
    body = order_body(await stock(http, 0), quantity=1)  # backordered: it waits
    body["customer"]["id"] = customer
    body["payment"] = {"store_credit": 1999}  # no card: the credit covers it

    order_id = await place(http, body)
    await wait_for_status(http, order_id, "backordered")
    held = (await http.get(f"/v1/customers/{customer}/store-credit")).json()
    await http.post(f"/v1/orders/{order_id}/cancel", json={"reason": "too slow"})
    order = await wait_for_status(http, order_id, *TERMINAL)
    after = (await http.get(f"/v1/customers/{customer}/store-credit")).json()

    assert held["balances"] == [{"currency": "EUR", "balance": 3001}]
    assert order["status"] == "cancelled"
    assert after["balances"] == [{"currency": "EUR", "balance": 5000}]
    assert after["entries"][0]["kind"] == "released"


async def test_credit_spent_by_another_order_fails_the_second_with_its_reason(
    http: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    sessions: SessionFactory,
    settings: Settings,
    order_body: MakeOrderBody,
) -> None:
    customer = f"cust-{uuid4()}"
    await http.post(
        f"/v1/customers/{customer}/store-credit",
        json={"amount": 1999, "currency": "EUR", "reason": "goodwill"},
    )
    sku = await stock(http, 5)
    body = order_body(sku, quantity=1)
    body["customer"]["id"] = customer
    body["payment"] = {"store_credit": 1999}

    # No worker yet: both pass the API's check (the balance covers each), neither holds yet.
    ids = [await place(http, body) for _ in range(2)]
    async with build_worker(temporal_env.client, sessions, settings):
        orders = [await wait_for_status(http, order_id, *TERMINAL) for order_id in ids]
    again = await http.post("/v1/orders", json=body)

    assert sorted(o["status"] for o in orders) == ["completed", "failed"]
    [failed] = [o for o in orders if o["status"] == "failed"]
    assert failed["status_reason"] == "store_credit_insufficient"
    assert again.status_code == 409
    assert "store credit" in again.json()["detail"]
