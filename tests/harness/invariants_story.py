"""The story db.invariants is tested on: one order of each ending, written by the real code.

Orders are written the way the activities would write them, through the same repositories and the
same simulated outside world, so a sound story is what a sound system leaves behind.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from db import order_events
from db.models import OrderLineRecord, OrderRecord, ShipmentRecord
from db.session import SessionFactory
from db.stock import StockRepository, Wanted
from simulation.carrier import SimulatedCarrier
from simulation.payments import SimulatedPaymentGateway
from simulation.warehouse import SimulatedWarehouse
from simulation.world import SimulationConfig
from tests.factories import make_address
from workflows.contracts import ShipInput

A, B = "SKU-A", "SKU-B"  # the database is this module's own: plain names are fine
PRICE = 1000


@dataclass(frozen=True)
class World:
    """The story: one order of each ending, all of them finished."""

    sessions: SessionFactory
    done: str  # completed: reserved, authorized, picked, packed, labelled, shipped, captured
    cancelled: str  # reserved, authorized and picked, then every step undone
    declined: str  # failed: the card was declined, the stock released
    unpaid: str  # failed after shipping: the capture was refused, the authorization voided

    def name(self, key: str) -> str:
        """`done` → that order's id; a SKU stays itself."""
        named: str = getattr(self, key, key)
        return named


class Story:
    """Writes orders the way the activities would, through the same code."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions, world = sessions, SimulationConfig()
        self.gateway = SimulatedPaymentGateway(sessions, world)
        self.warehouse = SimulatedWarehouse(sessions, world)
        self.carrier = SimulatedCarrier(sessions, world)

    async def order(self, status: str, lines: dict[str, int]) -> str:
        order_id, now = f"o-{uuid4()}", datetime.now(UTC)
        async with self.sessions.begin() as session:
            session.add(_order_record(order_id, status, lines, now))
            await session.flush()  # the order row before its lines (foreign key)
            session.add_all(
                OrderLineRecord(order_id=order_id, line_no=n, sku=sku, quantity=q, unit_price=PRICE)
                for n, (sku, q) in enumerate(lines.items(), 1)
            )
            await session.flush()
            await order_events.placed(session, order_id)
            stock = StockRepository(session)
            wanted = [Wanted(sku=sku, quantity=q) for sku, q in lines.items()]
            assert await stock.reserve(order_id, wanted) == []
        return order_id

    async def authorize(self, order_id: str, total: int) -> None:
        await self.gateway.authorize(order_id, "tok_visa", total, "EUR", f"{order_id}:authorize")
        await self.warehouse.pick(order_id, [])
        await self.warehouse.pack(order_id, [])

    async def ship(self, order_id: str) -> None:
        label = await self.carrier.create_shipment(
            order_id, ShipInput(order_id=order_id, address=make_address(), lines=[])
        )
        async with self.sessions.begin() as session:
            await StockRepository(session).ship(order_id)
            session.add(
                ShipmentRecord(
                    id=label.shipment_id,
                    order_id=order_id,
                    carrier=label.carrier,
                    tracking_number=label.tracking_number,
                    status="delivered",
                )
            )

    async def undo(self, order_id: str) -> None:
        """The saga's compensations, newest first."""
        await self.carrier.void_shipment(order_id)
        await self.warehouse.cancel(order_id, "pack")
        await self.warehouse.cancel(order_id, "pick")
        await self.gateway.void(order_id, f"{order_id}:void")
        async with self.sessions.begin() as session:
            await StockRepository(session).release(order_id)


def _order_record(order_id: str, status: str, lines: dict[str, int], now: datetime) -> OrderRecord:
    return OrderRecord(
        id=order_id,
        customer_id="cust-invariants",
        customer_email="ada@example.com",
        customer_name="Ada",
        shipping_address={},
        currency="EUR",
        total=sum(lines.values()) * PRICE,
        payment_token="tok_visa",
        status=status,
        request_hash="-",
        created_at=now,
        updated_at=now,
    )


async def tell(story: Story) -> World:
    async with story.sessions.begin() as session:
        for sku in (A, B):
            await StockRepository(session).set_on_hand(sku, 10, actor="test")
    done = await story.order("completed", {A: 2, B: 1})
    await story.authorize(done, 3 * PRICE)
    await story.ship(done)
    await story.gateway.capture(done, 3 * PRICE, "EUR", f"{done}:capture")
    cancelled = await story.order("cancelled", {A: 1})
    await story.authorize(cancelled, PRICE)
    await story.undo(cancelled)
    declined = await story.order("failed", {B: 1})
    await story.undo(declined)  # the decline left no authorization: nothing to void
    unpaid = await story.order("failed", {A: 1, B: 2})
    await story.authorize(unpaid, 3 * PRICE)
    await story.ship(unpaid)
    await story.gateway.void(unpaid, f"{unpaid}:void")
    return World(story.sessions, done, cancelled, declined, unpaid)
