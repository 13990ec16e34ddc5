"""Listing orders: newest first, keyset pages, filters, and cursors that cannot be forged."""

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from db.models import OrderRecord
from db.session import SessionFactory
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.integration


async def place(api: httpx.AsyncClient, body: dict[str, Any], count: int) -> list[str]:
    ids = []
    for _ in range(count):
        placed = await api.post("/v1/orders", json=body)
        assert placed.status_code == 202
        ids.append(placed.json()["id"])
    return ids


async def walk(api: httpx.AsyncClient, params: dict[str, Any]) -> list[list[str]]:
    """Follow next_cursor to the end; the ids of each page."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        answer = await api.get("/v1/orders", params=query)
        assert answer.status_code == 200
        pages.append([order["id"] for order in answer.json()["items"]])
        if (cursor := answer.json()["next_cursor"]) is None:
            return pages


async def test_pages_list_a_customers_orders_newest_first_and_end_with_a_null_cursor(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    body = order_body(await new_sku(50))
    ids = await place(api, body, 5)

    pages = await walk(api, {"customer_id": body["customer"]["id"], "limit": 2})

    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]


async def test_a_page_holds_every_order_with_its_lines_history_and_shipments(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    body = order_body(await new_sku(50))
    ids = await place(api, body, 3)

    answer = await api.get("/v1/orders", params={"customer_id": body["customer"]["id"]})

    items = answer.json()["items"]
    assert [order["id"] for order in items] == ids[::-1]
    assert answer.json()["next_cursor"] is None
    assert all(order["lines"] and order["history"] for order in items)
    assert all(order["shipments"] == [] for order in items)


async def test_the_status_filter_keeps_only_orders_in_that_status(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    body = order_body(await new_sku(50))
    ids = await place(api, body, 4)
    async with sessions.begin() as session:  # as if the workflow had failed two of them
        failed = update(OrderRecord).where(OrderRecord.id.in_(ids[1:3])).values(status="failed")
        await session.execute(failed)
    customer = body["customer"]["id"]

    failed_pages = await walk(api, {"customer_id": customer, "status": "failed", "limit": 1})
    pending_pages = await walk(api, {"customer_id": customer, "status": "pending"})

    assert failed_pages == [[ids[2]], [ids[1]]]
    assert pending_pages == [[ids[3], ids[0]]]


FORGED = base64.urlsafe_b64encode(b'{"c": "yesterday", "i": "x"}').decode()


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        ({"cursor": FORGED}, ["query", "cursor"]),
        ({"cursor": base64.urlsafe_b64encode(b"[1, 2]").decode()}, ["query", "cursor"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 201}, ["query", "limit"]),
        ({"status": "lost"}, ["query", "status"]),
    ],
)
async def test_bad_list_parameters_answer_422(
    api: httpx.AsyncClient, params: dict[str, Any], loc: list[str]
) -> None:
    answer = await api.get("/v1/orders", params=params)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == loc


async def test_a_page_costs_the_same_queries_however_many_orders_it_holds(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    body = order_body(await new_sku(50))
    await place(api, body, 6)
    customer = body["customer"]["id"]

    small = await count_queries(api, {"customer_id": customer, "limit": 1})
    large = await count_queries(api, {"customer_id": customer, "limit": 6})

    # the API key, then orders (with their payments), lines, history, shipments, documents,
    # refunds and returns for the whole page (their lines too, when there are any)
    assert small == large == 8


async def count_queries(api: httpx.AsyncClient, params: dict[str, Any]) -> int:
    """How many SQL statements one GET /v1/orders runs."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        answer = await api.get("/v1/orders", params=params)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert answer.status_code == 200
    return len(statements)
