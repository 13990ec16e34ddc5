"""The read model: each workflow transition becomes an order row update and a history row."""

import json
from dataclasses import asdict

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from db.audit import AuditRepository
from db.models import HistoryRecord, OrderLineRecord, OrderRecord, ShipmentRecord
from db.session import SessionFactory
from workflows.contracts import RecordAuditInput, RecordStatusInput


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
            await _apply_change(session, input)
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

    @activity.defn
    async def record_audit(self, input: RecordAuditInput) -> None:
        """Append one support action's outcome; idempotent by (request_id, outcome)."""
        async with self._sessions.begin() as session:
            await AuditRepository(session).add(
                order_id=input.order_id,
                request_id=input.request_id,
                action=input.action.value,
                requested_by=input.requested_by,
                request=json.loads(input.request_json),
                outcome=input.outcome,
                detail=input.detail,
                at=input.at,
            )


async def _apply_change(session: AsyncSession, input: RecordStatusInput) -> None:
    """A support change: the order's total, address and lines as the workflow now has them.

    Changes are serialized by the workflow and each waits for its record, so the last write
    is the newest; rewriting the same values on a retry changes nothing."""
    values: dict[str, object] = {}
    if input.total is not None:
        values["total"] = input.total
    if input.shipping_address is not None:
        values["shipping_address"] = asdict(input.shipping_address)
    if values:
        await session.execute(
            update(OrderRecord).where(OrderRecord.id == input.order_id).values(**values)
        )
    if input.lines is not None:
        await session.execute(
            delete(OrderLineRecord).where(OrderLineRecord.order_id == input.order_id)
        )
        session.add_all(
            OrderLineRecord(
                order_id=input.order_id,
                line_no=no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for no, line in enumerate(input.lines)
        )
