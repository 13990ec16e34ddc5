"""Stock in our own PostgreSQL: reserve, release (compensation) and book out shipped units."""

from temporalio import activity

from db.session import SessionFactory
from db.stock import StockRepository, Wanted
from workflows.contracts import (
    ActivityName,
    ChangeReservationInput,
    OrderRef,
    ReserveStockInput,
    ReserveStockResult,
)


class InventoryActivities:
    """One transaction per attempt; each operation is idempotent per order, so retries are safe."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=ActivityName.RESERVE_STOCK)
    async def reserve_stock(self, input: ReserveStockInput) -> ReserveStockResult:
        """Reserve every line or none; a short SKU is an answer (backorder), not an error."""
        wanted = [Wanted(sku=line.sku, quantity=line.quantity) for line in input.lines]
        async with self._sessions.begin() as session:
            missing = await StockRepository(session).reserve(input.order_id, wanted)
        return ReserveStockResult(reserved=not missing, missing=missing)

    @activity.defn(name=ActivityName.CHANGE_RESERVATION)
    async def change_reservation(self, input: ChangeReservationInput) -> ReserveStockResult:
        """Make the open reservation exactly these lines, or change nothing when one is short."""
        wanted = [Wanted(sku=line.sku, quantity=line.quantity) for line in input.lines]
        async with self._sessions.begin() as session:
            missing = await StockRepository(session).change(input.order_id, wanted)
        return ReserveStockResult(reserved=not missing, missing=missing)

    @activity.defn(name=ActivityName.RELEASE_STOCK)
    async def release_stock(self, input: OrderRef) -> None:
        """Compensation: give the order's open reservations back."""
        async with self._sessions.begin() as session:
            await StockRepository(session).release(input.order_id)

    @activity.defn(name=ActivityName.SHIP_STOCK)
    async def ship_stock(self, input: OrderRef) -> None:
        """The reserved units left the building: on_hand and reserved both drop."""
        async with self._sessions.begin() as session:
            await StockRepository(session).ship(input.order_id)
