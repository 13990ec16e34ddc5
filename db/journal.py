"""The accounting journal in PostgreSQL: post a balanced booking once, read a period's lines.

Entries and lines are append-only (a trigger refuses UPDATE and DELETE): a mistake is corrected
by a reversing entry, never by an edit. Each entry carries an idempotency key, so the activity
that posts it may be retried freely; everything runs in the caller's transaction, so an entry
is written together with the event it books, or not at all.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import JournalEntryRecord, JournalLineRecord
from money.journal import Booking

Entry, Line = JournalEntryRecord, JournalLineRecord
_ENTRY_FACTS = (
    Entry.at,
    Entry.kind,
    Entry.description,
    Entry.currency,
    Entry.order_id,
    Entry.refund_id,
    Entry.document,
)


@dataclass(frozen=True, kw_only=True)
class JournalRow:
    """One line of the journal with its entry's facts: a row of the accounting export."""

    entry_id: int
    at: datetime
    kind: str
    description: str
    currency: str
    order_id: str | None
    refund_id: str | None
    document: str | None
    account: str
    debit: int
    credit: int


async def post(
    session: AsyncSession,
    booking: Booking,
    *,
    currency: str,
    key: str,
    at: datetime,
    order_id: str | None = None,
    refund_id: str | None = None,
    document: str | None = None,
    customer_id: str | None = None,
) -> bool:
    """Write the booking as one entry unless `key` was posted before; True if it is new.

    A concurrent post of the same key waits on the unique index and then writes nothing."""
    _refuse_unposted(booking, at)
    entry = (
        upsert(Entry)
        .values(
            kind=booking.kind,
            description=booking.description,
            currency=currency,
            order_id=order_id,
            refund_id=refund_id,
            document=document,
            customer_id=customer_id,
            idempotency_key=key,
            at=at,
        )
        .on_conflict_do_nothing(index_elements=[Entry.idempotency_key])
        .returning(Entry.id)
    )
    entry_id = (await session.execute(entry)).scalar_one_or_none()
    if entry_id is None:
        return False  # posted before: the same booking, whatever this call carried
    lines = [
        {"entry_id": entry_id, "account": p.account, "debit": p.debit, "credit": p.credit}
        for p in booking.postings
    ]
    await session.execute(insert(Line), lines)
    return True


def _refuse_unposted(booking: Booking, at: datetime) -> None:
    """What can never be an entry: nothing to post, debits unequal to credits, a naive time."""
    if not booking.postings:
        raise ValueError(f"{booking.kind} {booking.description!r} has no postings")
    if not booking.balanced:
        raise ValueError(f"{booking.kind} {booking.description!r} does not balance")
    if at.utcoffset() is None:
        raise ValueError("a journal entry's time must be timezone-aware")


async def lines_between(
    session: AsyncSession, start: datetime | None, end: datetime | None, limit: int | None = None
) -> list[JournalRow]:
    """The lines of entries at `start` (inclusive) up to `end` (exclusive), unbounded where
    None, in the order they were booked: (at, entry, line). At most `limit` lines."""
    query = (
        select(Entry.id.label("entry_id"), *_ENTRY_FACTS, Line.account, Line.debit, Line.credit)
        .join(Line, Line.entry_id == Entry.id)
        .order_by(Entry.at, Entry.id, Line.id)
        .limit(limit)
    )
    if start is not None:
        query = query.where(Entry.at >= start)
    if end is not None:
        query = query.where(Entry.at < end)
    return [JournalRow(**row._asdict()) for row in await session.execute(query)]
