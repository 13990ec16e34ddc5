"""A carrier simulated in PostgreSQL: one label per order, delivered a set delay after shipping."""

import secrets
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from activities.shipping import Tracking
from db.models import SimShipmentRecord
from db.session import SessionFactory
from simulation.world import SimulationConfig
from workflows.contracts import ShipInput, Shipment

CARRIER = "SimPost"


class SimulatedCarrier:
    """Labels keyed by order: a retried shipment finds the first label, never buys a second."""

    def __init__(self, sessions: SessionFactory, config: SimulationConfig) -> None:
        self._sessions, self._config = sessions, config

    async def create_shipment(self, order_id: str, input: ShipInput) -> Shipment:
        del input  # the simulation ships anywhere
        await self._config.call("create shipment")
        async with self._sessions.begin() as session:
            await session.execute(
                insert(SimShipmentRecord)
                .values(
                    order_id=order_id,
                    shipment_id=str(uuid4()),
                    carrier=CARRIER,
                    tracking_number=f"SP{secrets.randbelow(10**12):012d}",
                    status="in_transit",
                    deliver_at=datetime.now(UTC) + self._config.delivery_delay,
                )
                .on_conflict_do_nothing()
            )
            label = await session.get_one(SimShipmentRecord, order_id)
        return Shipment(
            shipment_id=label.shipment_id,
            carrier=label.carrier,
            tracking_number=label.tracking_number,
            status=label.status,
        )

    async def void_shipment(self, order_id: str) -> None:
        await self._config.call("void label")
        async with self._sessions.begin() as session:
            await session.execute(
                update(SimShipmentRecord)
                .where(SimShipmentRecord.order_id == order_id)
                .values(status="voided")
            )

    async def create_return_label(self, return_id: str) -> Shipment:
        """A return label, kept beside the order labels under `return-{id}`; never delivered
        by the simulation (the warehouse receives the parcel)."""
        await self._config.call("create return label")
        key = return_label_key(return_id)
        async with self._sessions.begin() as session:
            await session.execute(
                insert(SimShipmentRecord)
                .values(
                    order_id=key,
                    shipment_id=str(uuid4()),
                    carrier=CARRIER,
                    tracking_number=f"SR{secrets.randbelow(10**12):012d}",
                    status="issued",
                    deliver_at=datetime.max.replace(tzinfo=UTC),
                )
                .on_conflict_do_nothing()
            )
            label = await session.get_one(SimShipmentRecord, key)
        return Shipment(
            shipment_id=label.shipment_id,
            carrier=label.carrier,
            tracking_number=label.tracking_number,
            status=label.status,
        )

    async def void_return_label(self, return_id: str) -> None:
        await self.void_shipment(return_label_key(return_id))

    async def track(self, shipment_id: str) -> Tracking:
        async with self._sessions.begin() as session:
            label = await session.scalar(
                select(SimShipmentRecord).where(SimShipmentRecord.shipment_id == shipment_id)
            )
            if label is None:
                raise LookupError(f"unknown shipment {shipment_id}")
            if label.status == "delivered" or datetime.now(UTC) >= label.deliver_at:
                label.status = "delivered"
                return Tracking(delivered=True)
            return Tracking(delivered=False, expected_at=label.deliver_at)


def return_label_key(return_id: str) -> str:
    """Where the simulation keeps a return's label (its order labels are keyed by order id)."""
    return f"return-{return_id}"
