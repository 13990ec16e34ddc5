"""The read model: each workflow transition becomes an order row update and a history row."""

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from db.audit import AuditRepository
from db.mapping import (
    to_address_json,
    to_audit_row,
    to_history_row,
    to_line_rows,
    to_shipment_row,
)
from db.models import HistoryRecord, OrderLineRecord, OrderRecord, ShipmentRecord
from db.session import SessionFactory
from workflows.contracts import ActivityName, RecordAuditInput, RecordStatusInput


class ProjectionActivities:
    """Writes what the API serves; idempotent by (order_id, seq), ordered by `orders.version`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=ActivityName.RECORD_STATUS)
    async def record_status(self, input: RecordStatusInput) -> None:
        """Record one transition: history row, order status (unless newer landed), shipment."""
        entry = input.entry
        history = to_history_row(input.order_id, input.seq, entry)
        async with self._sessions.begin() as session:
            await session.execute(
                insert(HistoryRecord).values(history.column_values()).on_conflict_do_nothing()
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
            await _apply_change(session, input)
            if input.shipment is not None:
                shipment = to_shipment_row(input.order_id, input.shipment)
                await session.execute(
                    insert(ShipmentRecord)
                    .values(shipment.column_values())
                    .on_conflict_do_update(
                        index_elements=[ShipmentRecord.id], set_={"status": shipment.status}
                    )
                )

    @activity.defn(name=ActivityName.RECORD_AUDIT)
    async def record_audit(self, input: RecordAuditInput) -> None:
        """Append one support action's outcome; idempotent by (request_id, outcome)."""
        async with self._sessions.begin() as session:
            await AuditRepository(session).add(to_audit_row(input))


async def _apply_change(session: AsyncSession, input: RecordStatusInput) -> None:
    """A support change: the order's total, address and lines as the workflow now has them.

    Changes are serialized by the workflow and each waits for its record, so the last write
    is the newest; rewriting the same values on a retry changes nothing."""
    values: dict[str, object] = {}
    if input.total is not None:
        values["total"] = input.total
    if input.shipping_address is not None:
        values["shipping_address"] = to_address_json(input.shipping_address)
    if values:
        await session.execute(
            update(OrderRecord).where(OrderRecord.id == input.order_id).values(**values)
        )
    if input.lines is not None:
        await session.execute(
            delete(OrderLineRecord).where(OrderLineRecord.order_id == input.order_id)
        )
        session.add_all(to_line_rows(input.order_id, input.lines))
