"""POST /v1/orders/{id}/refunds: what it refuses (409, 422), what it replays, and racing
requests that together ask for more than was paid."""

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from tests.harness.orders import TERMINAL, MakeOrderBody, wait_for_refund, wait_for_status
from tests.harness.storefront import completed_order, place, stock

pytestmark = pytest.mark.integration

Json = dict[str, Any]
CARD = "original_payment"


async def completed(http: httpx.AsyncClient, order_body: MakeOrderBody, **overrides: Any) -> Json:
    """A completed order of 3 x 19.99 EUR (5997), paid as `overrides` say."""
    return await completed_order(http, order_body(await stock(http, 10), quantity=3, **overrides))


def refund_body(**fields: Any) -> Json:
    return {"reason": "damaged", "method": CARD} | fields


async def test_nothing_captured_yet_is_a_409_that_says_what_to_do(
    http: httpx.AsyncClient, order_body: MakeOrderBody
) -> None:
    order_id = await place(http, order_body(await stock(http, 0)))  # no worker: stays pending

    answer = await http.post(f"/v1/orders/{order_id}/refunds", json=refund_body(amount=100))

    assert answer.status_code == 409
    assert "change or cancel the order instead" in answer.json()["detail"]


async def test_more_than_is_refundable_is_a_409_and_claims_nothing(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await completed(http, order_body)
    url = f"/v1/orders/{order['id']}/refunds"

    too_much = await http.post(url, json=refund_body(amount=5998))
    whole = await http.post(url, json=refund_body(amount=5997))
    one_more = await http.post(url, json=refund_body(amount=1))

    assert too_much.status_code == 409
    assert "more than is refundable" in too_much.json()["detail"]
    assert whole.status_code == 202
    assert one_more.status_code == 409  # the pending one counts until it ends
    listed = (await http.get(url)).json()["items"]
    assert [r["amount"] for r in listed] == [5997]


async def test_more_units_than_shipped_less_refunded_is_a_409(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await completed(http, order_body)
    sku, url = order["lines"][0]["sku"], f"/v1/orders/{order['id']}/refunds"

    two = await http.post(url, json=refund_body(lines=[{"sku": sku, "quantity": 2}]))
    two_more = await http.post(url, json=refund_body(lines=[{"sku": sku, "quantity": 2}]))

    assert two.status_code == 202
    assert two.json()["amount"] == 3998
    assert two_more.status_code == 409
    assert "3 shipped, 2 refunded or being refunded" in two_more.json()["detail"]


async def test_the_card_gets_back_no_more_than_it_paid_when_credit_paid_the_rest(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    body = order_body(await stock(http, 5), quantity=1)
    customer = body["customer"]["id"]
    await http.post(
        f"/v1/customers/{customer}/store-credit",
        json={"amount": 999, "currency": "EUR", "reason": "goodwill"},
    )
    body["payment"] = {"token": "tok_visa", "store_credit": 999}  # the card pays 1000
    order = await wait_for_status(http, await place(http, body), *TERMINAL)
    url = f"/v1/orders/{order['id']}/refunds"

    to_card = await http.post(url, json=refund_body(amount=1001))
    as_credit = await http.post(url, json=refund_body(amount=1999, method="store_credit"))

    assert to_card.status_code == 409
    assert "refund it as store credit" in to_card.json()["detail"]
    assert as_credit.status_code == 202


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"reason": "r", "method": CARD}, ["body"]),
        ({"reason": "r", "method": CARD, "amount": 5, "lines": [{"sku": "X", "quantity": 1}]},
         ["body"]),
        ({"reason": "r", "method": "cash", "amount": 5}, ["body", "method"]),
        ({"reason": "r", "method": CARD, "amount": 0}, ["body", "amount"]),
        ({"reason": "r", "method": CARD, "lines": [{"sku": "NOT-ON-IT", "quantity": 1}]},
         ["body", "lines", 0, "sku"]),
    ],
)  # fmt: skip
async def test_a_bad_body_is_a_422_naming_the_field(
    http: httpx.AsyncClient,
    order_body: MakeOrderBody,
    body: Json,
    loc: list[object],
) -> None:
    order_id = await place(http, order_body(await stock(http, 0)))

    answer = await http.post(f"/v1/orders/{order_id}/refunds", json=body)

    assert answer.status_code == 422
    assert any(error["loc"] == loc for error in answer.json()["detail"]), answer.json()


async def test_an_unknown_order_or_refund_is_a_404(http: httpx.AsyncClient) -> None:
    assert (
        await http.post("/v1/orders/nope/refunds", json=refund_body(amount=1))
    ).status_code == 404
    assert (await http.get("/v1/orders/nope/refunds")).status_code == 404
    assert (await http.get(f"/v1/refunds/{uuid4()}")).status_code == 404


async def test_the_same_idempotency_key_replays_the_refund_and_refuses_another_body(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await completed(http, order_body)
    url, key = f"/v1/orders/{order['id']}/refunds", {"Idempotency-Key": str(uuid4())}

    first = await http.post(url, json=refund_body(amount=500), headers=key)
    again = await http.post(url, json=refund_body(amount=500), headers=key)
    other = await http.post(url, json=refund_body(amount=600), headers=key)

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert len((await http.get(url)).json()["items"]) == 1


async def test_racing_refunds_never_together_exceed_what_was_paid(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await completed(http, order_body)  # 5997 paid
    url = f"/v1/orders/{order['id']}/refunds"

    answers = await asyncio.gather(
        *(http.post(url, json=refund_body(amount=1000)) for _ in range(10))
    )
    for made in answers:
        if made.status_code == 202:
            await wait_for_refund(http, made.json()["id"])
    after = (await http.get(f"/v1/orders/{order['id']}")).json()

    assert sorted(a.status_code for a in answers) == [202] * 5 + [409] * 5
    assert after["payment"]["refunded"] == 5000
    assert after["payment"]["status"] == "partially_refunded"
