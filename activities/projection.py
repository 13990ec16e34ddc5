"""The read model: each workflow transition becomes an order row update and a history row."""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from db.models import HistoryRecord, OrderRecord, ShipmentRecord
from db.session import SessionFactory
from workflows.contracts import RecordStatusInput


class ProjectionActivities:
    """Writes what the API serves; idempotent by (order_id, seq), ordered by `orders.version`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn
    async def record_status(self, input: RecordStatusInput) -> None:
        """Record one transition: history row, order status (unless newer landed), shipment."""
        entry = input.entry
        async with self._sessions.begin() as session:
            await session.execute(
                insert(HistoryRecord)
                .values(
                    order_id=input.order_id,
                    seq=input.seq,
                    status=entry.status.value,
                    reason=entry.reason,
                    actor=entry.actor,
                    at=entry.at,
                )
                .on_conflict_do_nothing()
            )
            await session.execute(
                update(OrderRecord)
                .where(OrderRecord.id == input.order_id, OrderRecord.version < input.seq)
                .values(
                    status=entry.status.value,
                    status_reason=input.status_reason,
                    updated_at=entry.at,
                    version=input.seq,
                )
            )
            if (shipment := input.shipment) is not None:
                values = {"status": shipment.status}
                await session.execute(
                    insert(ShipmentRecord)
                    .values(
                        id=shipment.shipment_id,
                        order_id=input.order_id,
                        carrier=shipment.carrier,
                        tracking_number=shipment.tracking_number,
                        **values,
                    )
                    .on_conflict_do_update(index_elements=[ShipmentRecord.id], set_=values)
                )
