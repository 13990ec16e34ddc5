"""200 storefronts racing for 50 units of one SKU over real HTTP, with the real worker.

Exactly 50 orders get a unit and 150 wait on backorder; at no moment is more reserved or shipped
than was counted, and the books balance while the 50 move on through the warehouse.
"""

import asyncio
import time
from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.worker import Worker

from db.models import InventoryRecord, MovementRecord, OrderRecord, ReservationRecord
from db.session import SessionFactory
from tests.harness.orders import MakeOrderBody, OrderBody
from tests.harness.storefront import stock

pytestmark = pytest.mark.e2e

UNITS, ORDERS = 50, 200
DECIDE = 60.0  # seconds for every order to be reserved or backordered
POLL = 0.2
REQUEST_TIMEOUT = 30.0  # 200 requests at once queue for the API's 30 database connections


@dataclass(frozen=True)
class Books:
    """One SKU's stock, and what must agree with it, read in one snapshot."""

    on_hand: int
    reserved: int
    moved: int  # the sum of its movements
    held: int  # units in open reservations
    shipped: int  # units in shipped reservations


async def read_books(sessions: SessionFactory, sku: str) -> Books:
    async with sessions() as session, session.begin():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        item = await session.get_one(InventoryRecord, sku)
        moved = select(func.coalesce(func.sum(MovementRecord.delta), 0))
        units = select(func.coalesce(func.sum(ReservationRecord.quantity), 0)).where(
            ReservationRecord.sku == sku
        )
        return Books(
            on_hand=item.on_hand,
            reserved=item.reserved,
            moved=await session.scalar(moved.where(MovementRecord.sku == sku)) or 0,
            held=await session.scalar(units.where(ReservationRecord.status == "open")) or 0,
            shipped=await session.scalar(units.where(ReservationRecord.status == "shipped")) or 0,
        )


def assert_balanced(books: Books) -> None:
    assert books.reserved + books.shipped <= UNITS, f"oversold: {books}"
    assert books.on_hand + books.shipped == UNITS, f"units appeared or vanished: {books}"
    assert books.on_hand == books.moved, f"on_hand is not the sum of movements: {books}"
    assert books.reserved == books.held, f"reserved is not what reservations hold: {books}"


async def undecided(sessions: SessionFactory, customer: str) -> int:
    """How many of the customer's ORDERS orders are not yet reserved or backordered."""
    async with sessions() as session:
        decided = await session.scalar(
            select(func.count()).where(
                OrderRecord.customer_id == customer, OrderRecord.status != "pending"
            )
        )
    return ORDERS - (decided or 0)


async def wait_until_decided(sessions: SessionFactory, sku: str, customer: str) -> None:
    """Poll until no order is pending; the books must balance at every look."""
    deadline = time.monotonic() + DECIDE
    while (left := await undecided(sessions, customer)) > 0:
        assert_balanced(await read_books(sessions, sku))
        assert time.monotonic() < deadline, f"{left} orders still pending after {DECIDE}s"
        await asyncio.sleep(POLL)


async def place(http: httpx.AsyncClient, body: OrderBody) -> str:
    placed = await http.post(
        "/v1/orders", json=body, headers={"Idempotency-Key": str(uuid4())}, timeout=REQUEST_TIMEOUT
    )
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["id"]
    return order_id


async def test_two_hundred_orders_racing_for_fifty_units_get_fifty_reserved_and_150_backordered(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    sku, customer = await stock(http, UNITS), f"cust-race-{uuid4()}"
    who = {"id": customer, "email": "race@example.com", "name": "Racer"}
    bodies = [order_body(sku, quantity=1, customer=who) for _ in range(ORDERS)]

    placed = await asyncio.gather(*(place(http, body) for body in bodies))
    await wait_until_decided(sessions, sku, customer)

    page = await http.get("/v1/orders", params={"customer_id": customer, "limit": ORDERS})
    orders: list[OrderBody] = page.json()["items"]
    assert sorted(order["id"] for order in orders) == sorted(placed)
    served = [o for o in orders if "reserved" in [h["status"] for h in o["history"]]]
    waiting = [o for o in orders if o["status"] == "backordered"]
    assert (len(served), len(waiting)) == (UNITS, ORDERS - UNITS)
    books = await read_books(sessions, sku)
    assert_balanced(books)
    assert books.reserved + books.shipped == UNITS  # every served order holds or shipped its unit
