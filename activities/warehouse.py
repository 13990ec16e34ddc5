"""Pick and pack through a warehouse interface (a WMS adapter implements it for real)."""

from typing import Protocol

from temporalio import activity

from workflows.contracts import ActivityName, OrderRef, StockLine, WarehouseInput, WarehouseResult


class Warehouse(Protocol):
    """What a real warehouse management system adapter implements; idempotent per order."""

    async def pick(self, order_id: str, lines: list[StockLine]) -> str:
        """Create (or find) the order's pick list and pick it; returns its reference."""
        ...

    async def pack(self, order_id: str, lines: list[StockLine]) -> str:
        """Pack the picked goods into a parcel; returns its reference."""
        ...

    async def cancel(self, order_id: str, kind: str) -> None:
        """Undo the `pick` or `pack` task (no-op when there is none)."""
        ...


class WarehouseActivities:
    """The warehouse steps of an order and their undos."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse

    @activity.defn(name=ActivityName.PICK_ORDER)
    async def pick_order(self, input: WarehouseInput) -> WarehouseResult:
        """Pick the order's lines."""
        return WarehouseResult(reference=await self._warehouse.pick(input.order_id, input.lines))

    @activity.defn(name=ActivityName.PACK_ORDER)
    async def pack_order(self, input: WarehouseInput) -> WarehouseResult:
        """Pack the picked lines into a parcel."""
        return WarehouseResult(reference=await self._warehouse.pack(input.order_id, input.lines))

    @activity.defn(name=ActivityName.CANCEL_PICK)
    async def cancel_pick(self, input: OrderRef) -> None:
        """Compensation: put picked goods back on the shelf."""
        await self._warehouse.cancel(input.order_id, "pick")

    @activity.defn(name=ActivityName.CANCEL_PACK)
    async def cancel_pack(self, input: OrderRef) -> None:
        """Compensation: unpack the parcel."""
        await self._warehouse.cancel(input.order_id, "pack")
