"""InventoryActivities on the real PostgreSQL, each call run as Temporal runs an activity.

Every test makes its own SKUs and order ids, so none can see another's stock.
"""

from uuid import uuid4

import pytest
from temporalio.testing import ActivityEnvironment

from activities.inventory import InventoryActivities
from db.session import SessionFactory
from db.stock import StockRepository
from tests.harness.orders import MakeSku
from workflows.contracts import (
    ChangeReservationInput,
    OrderRef,
    ReserveStockInput,
    ReserveStockResult,
    StockLine,
)

pytestmark = pytest.mark.integration

RESERVED = ReserveStockResult(reserved=True, missing=[])


@pytest.fixture
def inventory(sessions: SessionFactory) -> InventoryActivities:
    return InventoryActivities(sessions)


def lines(*wanted: tuple[str, int]) -> list[StockLine]:
    return [StockLine(sku=sku, quantity=quantity) for sku, quantity in wanted]


async def reserve(
    inventory: InventoryActivities, order_id: str, *wanted: tuple[str, int]
) -> ReserveStockResult:
    request = ReserveStockInput(order_id=order_id, lines=lines(*wanted))
    return await ActivityEnvironment().run(inventory.reserve_stock, request)


async def change(
    inventory: InventoryActivities, order_id: str, *wanted: tuple[str, int]
) -> ReserveStockResult:
    request = ChangeReservationInput(order_id=order_id, lines=lines(*wanted))
    return await ActivityEnvironment().run(inventory.change_reservation, request)


async def stock(sessions: SessionFactory, sku: str) -> tuple[int, int]:
    """(on_hand, reserved) of `sku` as committed."""
    async with sessions() as session:
        item = await StockRepository(session).get(sku)
        assert item is not None
        return item.on_hand, item.reserved


async def test_reserve_holds_every_line_when_all_are_in_stock(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    a, b = await new_sku(10), await new_sku(5)

    result = await reserve(inventory, f"o-{uuid4()}", (a, 3), (b, 5))

    assert result == RESERVED
    assert [await stock(sessions, a), await stock(sessions, b)] == [(10, 3), (5, 5)]


async def test_reserve_holds_nothing_when_one_line_is_short(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    plenty, scarce = await new_sku(10), await new_sku(1)

    result = await reserve(inventory, f"o-{uuid4()}", (plenty, 3), (scarce, 2))

    assert not result.reserved
    assert await stock(sessions, plenty) == (10, 0)  # the line that fit was not reserved either


async def test_reserve_names_every_short_sku_in_the_orders_line_order(
    inventory: InventoryActivities, new_sku: MakeSku
) -> None:
    short, plenty, gone = await new_sku(1), await new_sku(10), await new_sku(0)

    result = await reserve(inventory, f"o-{uuid4()}", (short, 2), (plenty, 1), (gone, 1))

    assert result == ReserveStockResult(reserved=False, missing=[short, gone])


async def test_a_sku_the_inventory_never_heard_of_is_short(
    inventory: InventoryActivities, new_sku: MakeSku
) -> None:
    known, unknown = await new_sku(10), f"SKU-UNKNOWN-{uuid4().hex[:8]}"

    result = await reserve(inventory, f"o-{uuid4()}", (known, 1), (unknown, 1))

    assert result == ReserveStockResult(reserved=False, missing=[unknown])


async def test_a_retried_reserve_reserves_once(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))

    again = await reserve(inventory, order_id, (sku, 2))  # the reply was lost; Temporal retries

    assert again == RESERVED
    assert await stock(sessions, sku) == (5, 2)


async def test_change_reservation_makes_the_reservation_exactly_the_new_lines(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    kept, dropped, added = await new_sku(10), await new_sku(10), await new_sku(10)
    order_id = f"o-{uuid4()}"
    await reserve(inventory, order_id, (kept, 2), (dropped, 1))

    result = await change(inventory, order_id, (kept, 3), (added, 1))

    assert result == RESERVED
    reserved = [(await stock(sessions, sku))[1] for sku in (kept, dropped, added)]
    assert reserved == [3, 0, 1]


async def test_change_reservation_changes_nothing_when_an_added_unit_is_short(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    fewer, scarce, order_id = await new_sku(10), await new_sku(1), f"o-{uuid4()}"
    await reserve(inventory, order_id, (fewer, 2))

    result = await change(inventory, order_id, (fewer, 1), (scarce, 5))

    assert result == ReserveStockResult(reserved=False, missing=[scarce])
    assert [await stock(sessions, fewer), await stock(sessions, scarce)] == [(10, 2), (1, 0)]


async def test_a_retried_change_reserves_the_extra_units_once(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(10), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))

    for _ in range(2):
        await change(inventory, order_id, (sku, 3))

    assert await stock(sessions, sku) == (10, 3)


async def test_release_gives_the_orders_stock_back(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))

    await ActivityEnvironment().run(inventory.release_stock, OrderRef(order_id=order_id))

    assert await stock(sessions, sku) == (5, 0)


async def test_a_retried_release_gives_back_once_and_leaves_other_orders_reserved(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))
    await reserve(inventory, f"o-{uuid4()}", (sku, 3))

    for _ in range(2):  # a compensation retried
        await ActivityEnvironment().run(inventory.release_stock, OrderRef(order_id=order_id))

    assert await stock(sessions, sku) == (5, 3)


async def test_ship_stock_books_the_reserved_units_out(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))

    await ActivityEnvironment().run(inventory.ship_stock, OrderRef(order_id=order_id))

    assert await stock(sessions, sku) == (3, 0)


async def test_a_retried_ship_stock_books_out_once(
    inventory: InventoryActivities, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku, order_id = await new_sku(5), f"o-{uuid4()}"
    await reserve(inventory, order_id, (sku, 2))
    await reserve(inventory, f"o-{uuid4()}", (sku, 1))

    for _ in range(2):  # the reply was lost; Temporal retries
        await ActivityEnvironment().run(inventory.ship_stock, OrderRef(order_id=order_id))

    assert await stock(sessions, sku) == (3, 1)
