"""An order's events, written in the transactions that place it and record its transitions."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import events
from db.models import HistoryRecord
from integration.catalog import EventType
from workflows.contracts import OrderStatus, RecordStatusInput
from workflows.rules import backordered_skus

E, S = EventType, OrderStatus
# The moves that have an event of their own beside `order.status_changed`.
_ARRIVED: dict[OrderStatus, EventType] = {
    S.ON_HOLD: E.ORDER_HELD,
    S.CANCELLED: E.ORDER_CANCELLED,
    S.SHIPPED: E.ORDER_SHIPPED,
    S.DELIVERED: E.ORDER_DELIVERED,
    S.COMPLETED: E.ORDER_COMPLETED,
}
_ENDED = frozenset({S.CANCELLED, S.FAILED})


async def placed(session: AsyncSession, order_id: str) -> None:
    """`order.created` (its lines flushed with it). Its customer counts it at the commit
    (db/customers.py)."""
    await events.emit_for_order(session, E.ORDER_CREATED, order_id, {})


async def recorded(session: AsyncSession, record: RecordStatusInput) -> None:
    """The events of one history row just written (a move, a change, or neither: a refused
    signal is history, not news)."""
    previous = await session.scalar(
        select(HistoryRecord.status).where(
            HistoryRecord.order_id == record.order_id, HistoryRecord.seq == record.seq - 1
        )
    )
    for event_type, detail in _facts(S(previous) if previous else None, record):
        await events.emit_for_order(session, event_type, record.order_id, detail)


async def delayed(session: AsyncSession, order_id: str, due_at: str) -> None:
    """`order.delayed`: not shipped within the SLA."""
    await events.emit_for_order(session, E.ORDER_DELAYED, order_id, {"due_at": due_at})


def _facts(
    previous: OrderStatus | None, record: RecordStatusInput
) -> list[tuple[EventType, dict[str, Any]]]:
    now, entry = record.entry.status, record.entry
    facts: list[tuple[EventType, dict[str, Any]]] = []
    changes = [
        name
        for name, value in (
            ("lines", record.lines),
            ("total", record.total),
            ("shipping_address", record.shipping_address),
        )
        if value is not None
    ]
    if changes:
        facts.append((E.ORDER_CHANGED, {"changes": changes, "by": entry.actor}))
    if previous is None or now == previous:
        return facts
    moved: dict[str, Any] = {"from": previous.value, "to": now.value, "reason": entry.reason}
    if now is S.BACKORDERED:
        moved["waiting_for"] = backordered_skus(entry.reason)
    facts.append((E.ORDER_STATUS_CHANGED, moved))
    if previous is S.ON_HOLD and now not in _ENDED:
        facts.append((E.ORDER_RELEASED, {"by": entry.actor}))
    if (arrived := _ARRIVED.get(now)) is not None:
        facts.append((arrived, _detail(now, record)))
    return facts


def _detail(status: OrderStatus, record: RecordStatusInput) -> dict[str, Any]:
    entry = record.entry
    if status in (S.ON_HOLD, S.CANCELLED):
        return {"reason": record.status_reason, "note": _note(record), "by": entry.actor}
    if status is S.SHIPPED and record.shipment is not None:
        shipment = record.shipment
        return {
            "shipment": {
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
            }
        }
    return {}


def _note(record: RecordStatusInput) -> str | None:
    """The person's own words: the history reason is "<code>: <note>" (workflows/timeline.py)."""
    reason, code = record.entry.reason, record.status_reason
    if reason is None or reason == code:
        return None
    prefix = f"{code}: "
    return reason.removeprefix(prefix) if code and reason.startswith(prefix) else reason
