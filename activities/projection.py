"""The read model: each workflow transition becomes an order row update and a history row."""

from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from db import order_events
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
from workflows.integration_contracts import RecordDelayInput


class ProjectionActivities:
    """Writes what the API serves; idempotent by (order_id, seq), ordered by `orders.version`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=ActivityName.RECORD_STATUS)
    async def record_status(self, input: RecordStatusInput) -> None:
        """Record one transition: history row, order status (unless newer landed), shipment, and
        its events."""
        entry = input.entry
        history = to_history_row(input.order_id, input.seq, entry)
        async with self._sessions.begin() as session:
            inserted = await session.scalar(
                insert(HistoryRecord)
                .values(history.column_values())
                .on_conflict_do_nothing()
                .returning(HistoryRecord.seq)
            )
            if inserted is None:
                return  # a retry: the first attempt's transaction wrote all of it
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
            await order_events.recorded(session, input)  # in the same transaction: the outbox

    @activity.defn(name=ActivityName.RECORD_DELAY)
    async def record_delay(self, input: RecordDelayInput) -> None:
        """The order missed its shipping SLA: marked late and `order.delayed`, once."""
        async with self._sessions.begin() as session:
            marked = await session.scalar(
                update(OrderRecord)
                .where(OrderRecord.id == input.order_id, OrderRecord.late_at.is_(None))
                .values(late_at=datetime.now(UTC))
                .returning(OrderRecord.id)
            )
            if marked is not None:
                await order_events.delayed(session, input.order_id, input.due_at.isoformat())

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
