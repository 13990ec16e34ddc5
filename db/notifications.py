"""Customer e-mails as rows: which events become which mail, recorded (with a deterministic
Message-ID) before anything is sent, once per (order, kind, event)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import snapshots
from db.models import EventRecord, NotificationRecord, OrderRecord, RefundRecord, ReturnRecord
from db.return_books import is_exchange_cover
from db.webhooks import new_id
from integration.catalog import EventType
from integration.mail.render import MailKind, language_for
from settings import Settings
from workflows.contracts import OrderStatus
from workflows.return_contracts import ReturnKind

E, K, S = EventType, MailKind, OrderStatus
# The events that make a mail whatever their data says.
_MAILS = {
    E.ORDER_DELAYED: K.DELAYED,
    E.ORDER_SHIPPED: K.SHIPPED,
    E.ORDER_DELIVERED: K.DELIVERED,
    E.ORDER_CANCELLED: K.CANCELLED,
    E.RETURN_AWAITING_RECEIPT: K.RETURN_LABEL,
    E.RETURN_RECEIVED: K.RETURN_RECEIVED,
}
_FRESH = frozenset({S.PENDING.value, S.BACKORDERED.value})  # a release from a hold is no news


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # recorded, then handed to the mail server: a crash here may send twice
    SENT = "sent"
    FAILED = "failed"


def message_id(kind: MailKind, event_id: int, order_id: str, mail_from: str) -> str:
    """The same for every attempt at this mail: a receiver (and its spam filter) sees a
    duplicate after a crash as the same message."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "oms.invalid"
    return f"<{kind.value}.{event_id}.{order_id}@{domain}>"


async def fan_out(session: AsyncSession, batch: Sequence[EventRecord], mail_from: str) -> int:
    """A pending notification for each event that makes a customer mail; returns how many new."""
    wanted = await _mails(session, batch)
    if not wanted:
        return 0
    orders = await _recipients(session, {order_id for _, order_id, _ in wanted})
    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id("ntf"),
            "order_id": order_id,
            "kind": kind.value,
            "event_id": event.id,
            "to_address": orders[order_id][0],
            "language": language_for(orders[order_id][1]),
            "message_id": message_id(kind, event.id, order_id, mail_from),
            "status": NotificationStatus.PENDING,
            "created_at": now,
        }
        for event, order_id, kind in wanted
        if order_id in orders
    ]
    inserted = await session.scalars(
        insert(NotificationRecord)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["order_id", "kind", "event_id"])
        .returning(NotificationRecord.id)
    )
    return len(inserted.all())


async def get(
    session: AsyncSession, notification_id: str, lock: bool = False
) -> NotificationRecord:
    query = select(NotificationRecord).where(NotificationRecord.id == notification_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one()


async def of_order(session: AsyncSession, order_id: str) -> Sequence[NotificationRecord]:
    query = (
        select(NotificationRecord)
        .where(NotificationRecord.order_id == order_id)
        .order_by(NotificationRecord.created_at, NotificationRecord.event_id)
    )
    return (await session.scalars(query)).all()


async def mail_data(
    session: AsyncSession, note: NotificationRecord, settings: Settings
) -> dict[str, Any]:
    """What the mail's template reads: its event's data (as it was then), the order as it is
    now when the event was not the order's, the return a refund was for, the shop's name."""
    event = await session.get(EventRecord, note.event_id)
    if event is None:
        raise LookupError(f"notification {note.id}: no event {note.event_id}")
    data: dict[str, Any] = dict(event.data) | {"shop": settings.seller_name}
    if "order" not in data:
        data["order"] = await session.scalar(select(func.order_snapshot(note.order_id)))
    if (refund := data.get("refund")) is not None and refund["return_id"] and "return" not in data:
        query = (
            select(ReturnRecord)
            .where(ReturnRecord.id == refund["return_id"])
            .options(selectinload(ReturnRecord.lines))
        )
        if (ret := await session.scalar(query)) is not None:
            data["return"] = snapshots.return_(ret)
    if note.kind == MailKind.BACKORDERED.value:
        placed = datetime.fromisoformat(data["order"]["created_at"])
        data["until"] = (placed + settings.backorder_window).isoformat()
    return data


async def _mails(
    session: AsyncSession, batch: Sequence[EventRecord]
) -> list[tuple[EventRecord, str, MailKind]]:
    """(event, order, kind) for each event of the batch that makes a mail."""
    refunds = await _refunds(
        session, [e.aggregate_id for e in batch if e.type == E.REFUND_SUCCEEDED]
    )
    found: list[tuple[EventRecord, str, MailKind]] = []
    for event in batch:
        kind = _kind(event, refunds)
        if kind is not None:
            found.append((event, _order_of(event.data), kind))
    return found


def _kind(
    event: EventRecord, refunds: dict[str, tuple[RefundRecord, str | None]]
) -> MailKind | None:
    data: dict[str, Any] = event.data
    if event.type == E.ORDER_STATUS_CHANGED and data["from"] in _FRESH:
        return {S.RESERVED.value: K.CONFIRMED, S.BACKORDERED.value: K.BACKORDERED}.get(data["to"])
    if event.type == E.REFUND_SUCCEEDED and event.aggregate_id in refunds:
        refund, return_kind = refunds[event.aggregate_id]
        if is_exchange_cover(refund):
            return None  # the credit that pays an exchange's order: not money back
        return K.RETURN_REFUNDED if return_kind == ReturnKind.RETURN.value else K.REFUND_ISSUED
    return _MAILS.get(EventType(event.type)) if event.type in _MAILS else None


def _order_of(data: dict[str, Any]) -> str:
    if "order" in data:
        return str(data["order"]["id"])
    resource = data.get("refund") or data["return"]
    return str(resource["order_id"])


async def _refunds(
    session: AsyncSession, refund_ids: Sequence[str]
) -> dict[str, tuple[RefundRecord, str | None]]:
    """Each refund with the kind of the return or claim it was for (None: neither)."""
    if not refund_ids:
        return {}
    rows = await session.execute(
        select(RefundRecord, ReturnRecord.kind)
        .outerjoin(ReturnRecord, ReturnRecord.id == RefundRecord.return_id)
        .where(RefundRecord.id.in_(refund_ids))
    )
    return {refund.id: (refund, kind) for refund, kind in rows}


async def _recipients(session: AsyncSession, order_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Each order's customer e-mail and shipping country (the mail's language)."""
    rows = await session.execute(
        select(OrderRecord.id, OrderRecord.customer_email, OrderRecord.shipping_address).where(
            OrderRecord.id.in_(order_ids)
        )
    )
    return {order_id: (email, address.get("country", "")) for order_id, email, address in rows}
