"""Placing and reading orders through the real app, PostgreSQL and Temporal (no worker needed)."""

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.models import OrderRecord
from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import ACTORS
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.servers import place_while_temporal_is_down, serve_api
from workflows.contracts import order_workflow_id

pytestmark = pytest.mark.integration


async def orders_with_key(sessions: SessionFactory, key: str) -> int:
    async with sessions() as session:
        query = select(func.count()).where(OrderRecord.idempotency_key == key)
        return (await session.scalar(query)) or 0


async def test_placing_an_order_answers_202_with_its_location_and_the_stored_order(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    temporal_env: WorkflowEnvironment,
) -> None:
    sku = await new_sku(5)
    body = order_body(sku, quantity=3)

    placed = await api.post("/v1/orders", json=body)

    assert placed.status_code == 202
    order = placed.json()
    assert placed.headers["location"] == f"/v1/orders/{order['id']}"
    assert order["status"] == "pending"
    assert order["total"] == 3 * 1999
    assert order["lines"] == [
        {"sku": sku, "quantity": 3, "unit_price": 1999, "tax_rate": None, "returned": 0}
    ]
    assert order["customer"] == body["customer"]
    assert order["shipping_address"] == body["shipping_address"]
    placed_by = [(h["status"], h["actor"]) for h in order["history"]]
    assert placed_by == [("pending", ACTORS[Role.ADMIN])]
    assert order["created_at"].endswith("Z")
    assert order["shipments"] == []
    assert order["payment"] == {
        "status": "pending",
        "authorized": 0,
        "captured": 0,
        "refunded": 0,
        "store_credit": 0,
    }
    assert (order["invoices"], order["refunds"]) == ([], [])
    read = await api.get(placed.headers["location"])
    assert read.status_code == 200
    assert read.json() == order  # read-your-write: the row is committed before the 202
    started = await temporal_env.client.get_workflow_handle(
        order_workflow_id(order["id"])
    ).describe()
    assert started.workflow_type == "OrderWorkflow"


BAD_FIELDS: list[tuple[str, Any, list[str | int]]] = [
    ("lines", [], ["body", "lines"]),
    ("lines", [{"sku": "S", "quantity": 0, "unit_price": 1}], ["body", "lines", 0, "quantity"]),
    ("lines", [{"sku": "S", "quantity": 1, "unit_price": -1}], ["body", "lines", 0, "unit_price"]),
    ("lines", [{"sku": "S", "quantity": "1", "unit_price": 1}], ["body", "lines", 0, "quantity"]),
    (
        "lines",
        [{"sku": "S", "quantity": 1, "unit_price": 19.99}],
        ["body", "lines", 0, "unit_price"],
    ),
    ("lines", [{"sku": "", "quantity": 1, "unit_price": 1}], ["body", "lines", 0, "sku"]),
    (
        "lines",
        [{"sku": f"S{n}", "quantity": 1, "unit_price": 1} for n in range(101)],
        ["body", "lines"],
    ),
    ("currency", "eur", ["body", "currency"]),
    ("currency", "EURO", ["body", "currency"]),
    ("customer", {"id": "c", "email": "not-an-email", "name": "A"}, ["body", "customer", "email"]),
    ("customer", {"id": "c", "email": "a@b.de", "name": "A" * 201}, ["body", "customer", "name"]),
    ("customer", {"id": "c", "email": "a@b.de"}, ["body", "customer", "name"]),
    ("payment", {"token": ""}, ["body", "payment", "token"]),
    ("coupon", "FREE", ["body", "coupon"]),
]


@pytest.mark.parametrize(("field", "value", "loc"), BAD_FIELDS)
async def test_invalid_input_answers_422_naming_the_field(
    api: httpx.AsyncClient, order_body: MakeOrderBody, field: str, value: Any, loc: list[str | int]
) -> None:
    answer = await api.post("/v1/orders", json=order_body("SKU-X", **{field: value}))

    assert answer.status_code == 422
    assert loc in [error["loc"] for error in answer.json()["detail"]]


async def test_a_bad_country_answers_422_at_its_path(
    api: httpx.AsyncClient, order_body: MakeOrderBody
) -> None:
    body = order_body("SKU-X")
    body["shipping_address"]["country"] = "DEU"

    answer = await api.post("/v1/orders", json=body)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "shipping_address", "country"]


async def test_a_body_that_is_not_json_answers_422(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/v1/orders", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert answer.status_code == 422
    assert answer.json()["detail"]


async def test_an_unknown_sku_answers_422_naming_it_and_stores_nothing(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    known, unknown, key = await new_sku(5), f"SKU-NEVER-{uuid4().hex[:8]}", str(uuid4())

    answer = await api.post(
        "/v1/orders", json=order_body(known, unknown), headers={"Idempotency-Key": key}
    )

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "lines", 1, "sku"]
    assert unknown in error["msg"]
    assert await orders_with_key(sessions, key) == 0


async def test_a_sku_on_two_lines_answers_422_at_the_second(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku, other = await new_sku(5), await new_sku(5)

    answer = await api.post("/v1/orders", json=order_body(sku, other, sku))

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "lines", 2, "sku"]
    assert sku in error["msg"]


async def test_an_idempotency_key_replayed_returns_the_same_order_and_one_workflow(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
) -> None:
    body, key = order_body(await new_sku(5)), str(uuid4())

    first = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": key})
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(first.json()["id"]))
    run_id = (await handle.describe()).run_id
    again = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": key})

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert await orders_with_key(sessions, key) == 1
    assert (await handle.describe()).run_id == run_id  # the same run: no second workflow


async def test_an_idempotency_key_reused_for_another_body_answers_409(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku, key = await new_sku(5), str(uuid4())
    await api.post("/v1/orders", json=order_body(sku), headers={"Idempotency-Key": key})

    answer = await api.post(
        "/v1/orders", json=order_body(sku, quantity=1), headers={"Idempotency-Key": key}
    )

    assert answer.status_code == 409
    assert "Idempotency-Key" in answer.json()["detail"]


async def test_concurrent_requests_with_one_key_place_one_order(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    body, key = order_body(await new_sku(50)), str(uuid4())

    answers = await asyncio.gather(
        *(api.post("/v1/orders", json=body, headers={"Idempotency-Key": key}) for _ in range(8))
    )

    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await orders_with_key(sessions, key) == 1


async def test_an_unknown_order_answers_404(api: httpx.AsyncClient) -> None:
    missing = str(uuid4())

    read = await api.get(f"/v1/orders/{missing}")
    cancel = await api.post(
        f"/v1/orders/{missing}/cancel", json={"reason": "changed my mind", "requested_by": "a-1"}
    )

    assert (read.status_code, cancel.status_code) == (404, 404)
    assert missing in read.json()["detail"]


async def test_an_order_placed_while_temporal_is_down_answers_503_and_a_retry_starts_it(
    settings: Settings,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
    admin_key: str,
) -> None:
    body, key = order_body(await new_sku(5)), str(uuid4())
    refused = await place_while_temporal_is_down(settings, admin_key, body, key)
    async with serve_api(settings, admin_key) as api:
        retried = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": key})

    assert refused.status_code == 503
    assert refused.json()["order_id"] == retried.json()["id"]  # the row stayed
    assert "Idempotency-Key" in refused.json()["detail"]
    assert retried.status_code == 202
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(retried.json()["id"]))
    assert (await handle.describe()).workflow_type == "OrderWorkflow"
    assert await orders_with_key(sessions, key) == 1


async def test_an_email_as_the_customer_id_is_refused_it_would_be_indexed_in_plain_text(
    api: httpx.AsyncClient, order_body: MakeOrderBody
) -> None:
    body = order_body("SKU-ANY")
    body["customer"]["id"] = "ada@example.com"

    answer = await api.post("/v1/orders", json=body)

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "customer", "id"]
    assert "not an email" in error["msg"]


@pytest.mark.parametrize(
    ("payment", "loc", "says"),
    [
        ({}, ["body", "payment", "token"], "card token or store credit that covers"),
        ({"store_credit": 100}, ["body", "payment", "token"], "does not cover the total"),
        ({"token": "tok_visa", "store_credit": 4000}, ["body", "payment", "store_credit"],
         "more than the order's total 3998"),
    ],
)  # fmt: skip
async def test_a_payment_that_does_not_cover_the_total_answers_422_at_its_field(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    payment: dict[str, Any],
    loc: list[str],
    says: str,
) -> None:
    answer = await api.post("/v1/orders", json=order_body(await new_sku(5), payment=payment))

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == loc
    assert says in error["msg"]
