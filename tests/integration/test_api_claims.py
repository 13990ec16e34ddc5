"""POST /v1/orders/{id}/claims over real HTTP with a real worker: a claim is resolved at once
(store credit, a card refund, a zero-priced reship), allowed once the parcel left; what it
refuses (409, 422, 403), what it replays, and what the order and the audit trail show."""

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import bearer
from tests.harness.orders import TERMINAL, MakeOrderBody, wait_for_refund, wait_for_status
from tests.harness.returns import Json
from tests.harness.storefront import completed_order, place, stock
from worker import build_worker

pytestmark = pytest.mark.integration

PRICE = 1999  # the harness's unit price


def claim_body(sku: str, quantity: int = 1, resolution: str = "store_credit", **more: str) -> Json:
    return {
        "type": "damaged_in_transit",
        "lines": [{"sku": sku, "quantity": quantity}],
        "resolution": resolution,
    } | more


async def delivered(http: httpx.AsyncClient, order_body: MakeOrderBody, quantity: int = 3) -> Json:
    return await completed_order(http, order_body(await stock(http, 10), quantity=quantity))


async def claim(http: httpx.AsyncClient, order_id: str, body: Json) -> httpx.Response:
    key = {"Idempotency-Key": str(uuid4())}
    return await http.post(f"/v1/orders/{order_id}/claims", json=body, headers=key)


def sku_of(order: Json) -> str:
    sku: str = order["lines"][0]["sku"]
    return sku


@pytest.fixture
async def never_delivering(
    temporal_env: WorkflowEnvironment, sessions: SessionFactory, settings: Settings
) -> AsyncIterator[Worker]:
    """The real worker whose carrier takes an hour to deliver: orders stay `shipped`."""
    slow = settings.model_copy(update={"sim_delivery_delay": timedelta(hours=1)})
    async with build_worker(temporal_env.client, sessions, slow) as running:
        yield running


async def test_a_store_credit_claim_is_completed_at_once_and_shown_on_its_order(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    sku = sku_of(order)

    made = await claim(http, order["id"], claim_body(sku, 2, note="box crushed"))
    claim_id = made.json()["id"]
    read = (await http.get(f"/v1/claims/{claim_id}")).json()
    listed = (await http.get(f"/v1/orders/{order['id']}/claims")).json()["items"]
    shown = (await http.get(f"/v1/orders/{order['id']}")).json()
    trail = (await http.get(f"/v1/orders/{order['id']}/audit")).json()

    assert made.status_code == 202, made.text
    assert made.headers["Location"] == f"/v1/claims/{claim_id}"
    assert read == made.json()
    assert {k: read[k] for k in ("order_id", "type", "status", "resolution", "note")} == {
        "order_id": order["id"],
        "type": "damaged_in_transit",
        "status": "completed",
        "resolution": "store_credit",
        "note": "box crushed",
    }
    assert (read["lines"], read["reship_order_id"]) == ([{"sku": sku, "quantity": 2}], None)
    assert read["refund"]["status"] == "succeeded"
    assert (read["refund"]["amount"], read["refund"]["method"]) == (2 * PRICE, "store_credit")
    assert [c["id"] for c in listed] == [claim_id]
    assert shown["claims"] == [{"id": claim_id, "status": "completed"}]
    assert (shown["returns"], shown["lines"][0]["returned"]) == ([], 0)  # nothing came back
    assert [(r["action"], r["outcome"], r["requested_by"]) for r in trail] == [
        ("claim", "accepted", "key:tests-admin")
    ]


async def test_a_card_refund_claim_pays_out_through_its_refund_workflow(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)

    made = (await claim(http, order["id"], claim_body(sku_of(order), resolution="refund"))).json()
    refund = await wait_for_refund(http, made["refund"]["id"])

    assert made["refund"]["method"] == "original_payment"
    assert (refund["status"], refund["amount"]) == ("succeeded", PRICE)


async def test_a_reship_claim_places_a_zero_priced_replacement_that_ships(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    body = claim_body(sku_of(order), resolution="reship") | {"type": "missing"}

    made = (await claim(http, order["id"], body)).json()
    reship = await wait_for_status(http, made["reship_order_id"], *TERMINAL)

    assert made["refund"] is None
    assert (reship["status"], reship["total"]) == ("completed", 0)
    assert (reship["exchange_for"], reship["placed_by_return"]) == (order["id"], made["id"])
    assert [(line["sku"], line["quantity"]) for line in reship["lines"]] == [(sku_of(order), 1)]


async def test_a_lost_parcel_may_be_claimed_before_delivery_but_not_returned(
    http: httpx.AsyncClient, never_delivering: Worker, order_body: MakeOrderBody
) -> None:
    sku = await stock(http, 5)
    order_id = await place(http, order_body(sku))
    await wait_for_status(http, order_id, "shipped")
    returns = {"lines": [{"sku": sku, "quantity": 1, "reason": "other"}], "resolution": "refund"}

    returned = await http.post(f"/v1/orders/{order_id}/returns", json=returns)
    claimed = await claim(http, order_id, claim_body(sku, resolution="reship", type="missing"))

    assert returned.status_code == 409
    assert "not been delivered yet: use a claim" in returned.json()["detail"]
    assert claimed.status_code == 202, claimed.text


async def test_an_order_not_shipped_cannot_be_claimed(
    http: httpx.AsyncClient, order_body: MakeOrderBody
) -> None:
    sku = await stock(http, 0)
    order_id = await place(http, order_body(sku))  # no worker: it stays pending

    answer = await claim(http, order_id, claim_body(sku))
    trail = (await http.get(f"/v1/orders/{order_id}/audit")).json()

    assert answer.status_code == 409
    assert "has not been shipped" in answer.json()["detail"]
    assert [(r["action"], r["outcome"]) for r in trail] == [("claim", "refused")]


async def test_more_units_than_shipped_less_returned_or_claimed_is_a_409(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    sku = sku_of(order)
    returned = {"lines": [{"sku": sku, "quantity": 1, "reason": "other"}], "resolution": "refund"}
    assert (await http.post(f"/v1/orders/{order['id']}/returns", json=returned)).status_code == 202

    two = await claim(http, order["id"], claim_body(sku, 2))
    one_more = await claim(http, order["id"], claim_body(sku, 1))
    back = await http.post(f"/v1/orders/{order['id']}/returns", json=returned)

    assert two.status_code == 202
    assert one_more.status_code == 409
    assert "3 shipped, 3 already returned, being returned or claimed" in one_more.json()["detail"]
    assert back.status_code == 409  # a return counts claimed units too


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"lines": [{"sku": "SKU-NOT-ON-IT", "quantity": 1}]}, ["body", "lines", 0, "sku"]),
        ({"type": "late"}, ["body", "type"]),
        ({"resolution": "exchange"}, ["body", "resolution"]),
        ({"lines": [{"sku": "{sku}", "quantity": 0}]}, ["body", "lines", 0, "quantity"]),
    ],
    ids=["sku not on the order", "unknown type", "exchange", "no units"],
)
async def test_a_claim_that_does_not_fit_the_order_is_a_422(
    http: httpx.AsyncClient, order_body: MakeOrderBody, change: Json, loc: list[object]
) -> None:
    sku = await stock(http, 0)
    order_id = await place(http, order_body(sku))
    body = claim_body(sku) | change
    body["lines"] = [line | {"sku": line["sku"].format(sku=sku)} for line in body["lines"]]

    answer = await claim(http, order_id, body)

    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]]


async def test_more_than_is_refundable_is_a_409_and_writes_no_claim(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    everything = {"amount": order["total"], "reason": "goodwill", "method": "store_credit"}
    refunded = await http.post(f"/v1/orders/{order['id']}/refunds", json=everything)
    assert refunded.status_code == 202, refunded.text

    answer = await claim(http, order["id"], claim_body(sku_of(order)))
    listed = (await http.get(f"/v1/orders/{order['id']}/claims")).json()["items"]

    assert answer.status_code == 409
    assert "more than is refundable" in answer.json()["detail"]
    assert listed == []


async def test_the_same_key_replays_the_claim_and_another_body_is_a_409(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    url, key = f"/v1/orders/{order['id']}/claims", {"Idempotency-Key": str(uuid4())}
    body = claim_body(sku_of(order))

    first = await http.post(url, json=body, headers=key)
    again = await http.post(url, json=body, headers=key)
    other = await http.post(url, json=body | {"note": "more"}, headers=key)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert len((await http.get(url)).json()["items"]) == 1


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        (Role.STOREFRONT, "POST", "/v1/orders/{order}/claims", False),
        (Role.WAREHOUSE, "POST", "/v1/orders/{order}/claims", False),
        (Role.OPS, "POST", "/v1/orders/{order}/claims", False),
        (Role.STOREFRONT, "GET", "/v1/claims/{claim}", False),
        (Role.WAREHOUSE, "GET", "/v1/orders/{order}/claims", False),
        (Role.OPS, "GET", "/v1/claims/{claim}", True),
        (Role.SUPPORT, "GET", "/v1/orders/{order}/claims", True),
    ],
    ids=lambda value: value.value if isinstance(value, Role) else None,
)
async def test_only_support_and_admin_make_claims_and_ops_reads_them(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    role_keys: dict[Role, str],
    role: Role,
    method: str,
    path: str,
    allowed: bool,
) -> None:
    order = await delivered(http, order_body) if allowed else {"id": "no-such-order"}
    made = (await claim(http, order["id"], claim_body(sku_of(order)))).json() if allowed else {}
    url = path.format(order=order["id"], claim=made.get("id", "no-such-claim"))
    body = claim_body("SKU-ANY") if method == "POST" else None

    answer = await http.request(method, url, json=body, headers=bearer(role_keys[role]))

    assert answer.status_code == (200 if allowed else 403), answer.text
