"""Reservations on the real PostgreSQL: all-or-nothing, no oversell under a race, idempotent."""

import asyncio
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from db.models import MovementRecord, ReservationRecord
from db.session import SessionFactory
from db.stock import StockConflict, StockRepository, Wanted
from tests.harness.orders import MakeSku

pytestmark = pytest.mark.integration


async def reserve(sessions: SessionFactory, order_id: str, *wanted: tuple[str, int]) -> list[str]:
    async with sessions.begin() as session:
        lines = [Wanted(sku=sku, quantity=quantity) for sku, quantity in wanted]
        return await StockRepository(session).reserve(order_id, lines)


async def stock(sessions: SessionFactory, sku: str) -> tuple[int, int]:
    async with sessions() as session:
        item = await StockRepository(session).get(sku)
        assert item is not None
        return item.on_hand, item.reserved


async def test_reservation_is_all_or_nothing(sessions: SessionFactory, new_sku: MakeSku) -> None:
    plenty, scarce = await new_sku(10), await new_sku(1)

    missing = await reserve(sessions, f"o-{uuid4()}", (plenty, 3), (scarce, 2))

    assert missing == [scarce]
    assert await stock(sessions, plenty) == (10, 0)  # the line that fit was not reserved either
    assert await stock(sessions, scarce) == (1, 0)


async def test_fifty_concurrent_orders_racing_for_ten_units_reserve_exactly_ten(
    sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku = await new_sku(10)

    results = await asyncio.gather(
        *(reserve(sessions, f"o-{uuid4()}", (sku, 1)) for _ in range(50))
    )

    assert sum(1 for missing in results if not missing) == 10
    assert await stock(sessions, sku) == (10, 10)


async def test_multi_sku_orders_in_opposite_orders_do_not_deadlock(
    sessions: SessionFactory, new_sku: MakeSku
) -> None:
    a, b = await new_sku(100), await new_sku(100)
    orders = [((a, 1), (b, 1)) if i % 2 else ((b, 1), (a, 1)) for i in range(40)]

    results = await asyncio.gather(*(reserve(sessions, f"o-{uuid4()}", *o) for o in orders))

    assert all(not missing for missing in results)
    assert await stock(sessions, a) == (100, 40)


async def test_a_retried_reservation_does_not_reserve_twice(
    sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"

    await reserve(sessions, order_id, (sku, 2))
    again = await reserve(sessions, order_id, (sku, 2))  # the reply was lost; Temporal retries

    assert again == []
    assert await stock(sessions, sku) == (5, 2)


async def test_release_gives_stock_back_once(sessions: SessionFactory, new_sku: MakeSku) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(sessions, order_id, (sku, 2))

    for _ in range(2):  # a compensation retried
        async with sessions.begin() as session:
            await StockRepository(session).release(order_id)

    assert await stock(sessions, sku) == (5, 0)


async def test_shipping_books_units_out_and_movements_reconcile_with_on_hand(
    sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(sessions, order_id, (sku, 2))
    async with sessions.begin() as session:
        repo = StockRepository(session)
        await repo.adjust(sku, 3, reason="receipt", actor="test")
        await repo.ship(order_id)
        await repo.ship(order_id)  # retried: nothing more leaves

    async with sessions() as session:
        moved = await session.scalar(
            select(func.sum(MovementRecord.delta)).where(MovementRecord.sku == sku)
        )
        reservation = await session.get_one(ReservationRecord, (order_id, sku))
    assert await stock(sessions, sku) == (6, 0)
    assert moved == 6
    assert reservation.status == "shipped"


async def test_on_hand_cannot_drop_below_what_is_reserved(
    sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku = await new_sku(5)
    await reserve(sessions, f"o-{uuid4()}", (sku, 4))

    with pytest.raises(StockConflict):
        async with sessions.begin() as session:
            await StockRepository(session).set_on_hand(sku, 3, actor="test")

    assert await stock(sessions, sku) == (5, 4)
