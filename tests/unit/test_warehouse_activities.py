"""WarehouseActivities against an in-memory warehouse: what is picked, packed and undone."""

import pytest
from temporalio.testing import ActivityEnvironment

from activities.warehouse import WarehouseActivities
from tests.harness.outside import FakeWarehouse, WarehouseCall
from workflows.contracts import OrderRef, StockLine, WarehouseInput

LINES = [StockLine(sku="SKU-RED-M", quantity=2), StockLine(sku="SKU-BLUE-L", quantity=1)]
ORDER = WarehouseInput(order_id="o-1", lines=LINES)


@pytest.fixture
def warehouse() -> FakeWarehouse:
    return FakeWarehouse()


@pytest.fixture
def activities(warehouse: FakeWarehouse) -> WarehouseActivities:
    return WarehouseActivities(warehouse)


async def test_pick_order_picks_the_orders_lines(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    await ActivityEnvironment().run(activities.pick_order, ORDER)

    assert warehouse.calls == [WarehouseCall(operation="pick", order_id="o-1", lines=LINES)]


async def test_pick_order_answers_the_warehouses_pick_list_reference(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    result = await ActivityEnvironment().run(activities.pick_order, ORDER)

    assert result.reference == warehouse.references[("o-1", "pick")]


async def test_pack_order_packs_the_orders_lines(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    await ActivityEnvironment().run(activities.pack_order, ORDER)

    assert warehouse.calls == [WarehouseCall(operation="pack", order_id="o-1", lines=LINES)]


async def test_pack_order_answers_the_warehouses_parcel_reference(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    result = await ActivityEnvironment().run(activities.pack_order, ORDER)

    assert result.reference == warehouse.references[("o-1", "pack")]


async def test_cancel_pick_cancels_the_orders_pick_task(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    await ActivityEnvironment().run(activities.cancel_pick, OrderRef(order_id="o-1"))

    assert warehouse.calls == [WarehouseCall(operation="cancel", order_id="o-1", kind="pick")]


async def test_cancel_pack_cancels_the_orders_pack_task(
    warehouse: FakeWarehouse, activities: WarehouseActivities
) -> None:
    await ActivityEnvironment().run(activities.cancel_pack, OrderRef(order_id="o-1"))

    assert warehouse.calls == [WarehouseCall(operation="cancel", order_id="o-1", kind="pack")]
