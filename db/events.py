"""The event outbox: each business fact written in the transaction of its change, and the feed
that reads them back in commit order, never skipping one that committed late.

`emit` numbers an aggregate's events 1, 2, 3, ... under the lock of its `event_streams` row (one
statement), so a receiver can order what at-least-once delivery hands it out of order.

The feed cannot follow `id`: ids are taken when a transaction inserts, not when it commits, so a
reader that saw id 8 may later find id 7 committed after it. Each event carries its writing
transaction's id (`tx`, 64-bit, never wrapping), and the feed only serves events whose `tx` is
below the oldest transaction still running (`pg_snapshot_xmin`): every transaction below that
line has ended, so nothing can appear behind a position once the feed has passed it. Ordered by
(tx, id), a consumer following the cursor sees each event once, at the price of waiting for the
longest transaction open at the time (ours are short: milliseconds).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import EventRecord
from integration.catalog import Aggregate, EventType, aggregate_of

_EMIT = text("""
    WITH stream AS (
        INSERT INTO event_streams AS s (aggregate, aggregate_id, seq)
        VALUES (:aggregate, :aggregate_id, 1)
        ON CONFLICT (aggregate, aggregate_id) DO UPDATE SET seq = s.seq + 1
        RETURNING seq)
    INSERT INTO events (type, aggregate, aggregate_id, seq, data)
    SELECT :type, :aggregate, :aggregate_id, seq, :data FROM stream""").bindparams(
    bindparam("data", type_=JSONB)
)
# An order's event: the order as it is now (`order_snapshot`, migration 0007) with `detail`
# beside it, built in the statement that writes the event.
_EMIT_ORDER = text("""
    WITH stream AS (
        INSERT INTO event_streams AS s (aggregate, aggregate_id, seq)
        VALUES ('order', :order_id, 1)
        ON CONFLICT (aggregate, aggregate_id) DO UPDATE SET seq = s.seq + 1
        RETURNING seq)
    INSERT INTO events (type, aggregate, aggregate_id, seq, data)
    SELECT :type, 'order', :order_id, seq,
           jsonb_build_object('order', order_snapshot(:order_id)) || :detail
    FROM stream""").bindparams(bindparam("detail", type_=JSONB))
# The next number of an aggregate's events, its stream row locked until the transaction ends.
_RESERVE = text("""
    INSERT INTO event_streams AS s (aggregate, aggregate_id, seq)
    VALUES (:aggregate, :aggregate_id, 1)
    ON CONFLICT (aggregate, aggregate_id) DO UPDATE SET seq = s.seq + 1
    RETURNING seq""")
_WRITE = text("""
    INSERT INTO events (type, aggregate, aggregate_id, seq, data)
    VALUES (:type, :aggregate, :aggregate_id, :seq, :data)""").bindparams(
    bindparam("data", type_=JSONB)
)
# Below this transaction id every transaction has ended: the feed's horizon.
_HORIZON: ColumnElement[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)
PUBLIC_PREFIX = "evt_"


@dataclass(frozen=True, kw_only=True)
class FeedPosition:
    """The last event a consumer has: the feed continues after (tx, event_id)."""

    tx: int
    event_id: int


async def emit(
    session: AsyncSession, event_type: EventType, aggregate_id: str, data: dict[str, Any]
) -> None:
    """Write the event in the caller's transaction: it commits, or vanishes, with the change.
    `data` is JSON-ready (strings, numbers, lists, dicts)."""
    await session.execute(
        _EMIT,
        {
            "type": event_type.value,
            "aggregate": aggregate_of(event_type).value,
            "aggregate_id": aggregate_id,
            "data": data,
        },
    )


async def emit_for_order(
    session: AsyncSession, event_type: EventType, order_id: str, detail: dict[str, Any]
) -> None:
    """Write an order's event, `data.order` the order as this transaction has it, with `detail`
    (JSON-ready) beside it: one statement, nothing loaded."""
    assert aggregate_of(event_type) is Aggregate.ORDER
    params = {"type": event_type.value, "order_id": order_id, "detail": detail}
    await session.execute(_EMIT_ORDER, params)


async def reserve(session: AsyncSession, event_type: EventType, aggregate_id: str) -> int:
    """Take the aggregate's next number now, and with it its stream's lock: other writers of
    the aggregate wait until this transaction ends. For an event whose data must be read after
    that lock (db/customers.py); `write` it with the number in the same transaction."""
    aggregate = aggregate_of(event_type).value
    found = await session.execute(_RESERVE, {"aggregate": aggregate, "aggregate_id": aggregate_id})
    return int(found.scalar_one())


async def write(
    session: AsyncSession,
    event_type: EventType,
    aggregate_id: str,
    seq: int,
    data: dict[str, Any],
) -> None:
    """Write an event numbered by `reserve`."""
    params = {"type": event_type.value, "aggregate_id": aggregate_id, "seq": seq, "data": data}
    await session.execute(_WRITE, params | {"aggregate": aggregate_of(event_type).value})


async def feed(
    session: AsyncSession,
    after: FeedPosition | None,
    limit: int,
    types: Sequence[str] | None = None,
) -> Sequence[EventRecord]:
    """Up to `limit` events after `after` (from the first without), oldest commit first, of
    `types` only when given; only those no running transaction can still precede."""
    query = select(EventRecord).where(EventRecord.tx < _HORIZON)
    if after is not None:
        query = query.where(
            tuple_(EventRecord.tx, EventRecord.id) > tuple_(after.tx, after.event_id)
        )
    if types:
        query = query.where(EventRecord.type.in_(types))
    query = query.order_by(EventRecord.tx, EventRecord.id).limit(limit)
    return (await session.scalars(query)).all()


async def since(
    session: AsyncSession, moment: datetime, types: Sequence[str] | None, limit: int
) -> Sequence[EventRecord]:
    """Events that happened at or after `moment` (a replay's), oldest first, up to `limit`."""
    query = select(EventRecord).where(EventRecord.occurred_at >= moment)
    if types:
        query = query.where(EventRecord.type.in_(types))
    query = query.order_by(EventRecord.occurred_at, EventRecord.id).limit(limit)
    return (await session.scalars(query)).all()


def position_of(event: EventRecord) -> FeedPosition:
    return FeedPosition(tx=event.tx, event_id=event.id)


def public_id(event_id: int) -> str:
    """The event's id as the world sees it (`evt_42`): webhooks' `webhook-id`, the feed's."""
    return f"{PUBLIC_PREFIX}{event_id}"


def envelope(event: EventRecord) -> dict[str, Any]:
    """The event as the feed serves it and a webhook carries it (Standard Webhooks' `type`,
    `timestamp` and `data`, with the id and the aggregate's sequence beside them)."""
    return {
        "id": public_id(event.id),
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "aggregate": {"type": event.aggregate, "id": event.aggregate_id, "sequence": event.seq},
        "data": event.data,
    }
