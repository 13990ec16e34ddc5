"""The customer view: kept current by the transactions that place orders, issue documents and move
store credit, each emitting `customer.updated` with the view as it is after the change.

Several transactions may change one customer at once (two orders, an invoice, a refund). Each
takes the customer's event-stream row first (`events.reserve`) and only then reads the view it
publishes, in a statement of its own: the writers of one customer queue there, so each event's
view holds every change of the events numbered before it. An order counts for its customer by a
trigger at its transaction's COMMIT (migration 0007, `count_order_for_customer`), whatever
inserted it: the customer is locked only for the commit's own few statements, never across the
application's round trips, so a customer's many orders placed at once hardly wait. The view
itself is the SQL function `customer_view`, the same for the API, the trigger and the events.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import events
from db.models import CustomerRecord, CustomerSpendRecord, OrderRecord
from integration.catalog import Aggregate, EventType

_UPDATED = {"type": EventType.CUSTOMER_UPDATED.value, "aggregate": Aggregate.CUSTOMER.value}


_VIEWS = text("""
    SELECT customer_view(c.id) AS view FROM customers AS c
    WHERE c.id = ANY(CAST(:ids AS text[])) ORDER BY c.id""")
_PUBLISH = text("""
    INSERT INTO events (type, aggregate, aggregate_id, seq, data)
    SELECT :type, :aggregate, c.id, :seq, jsonb_build_object('customer', customer_view(c.id))
    FROM customers AS c WHERE c.id = :id""")


async def spent(
    session: AsyncSession, customer_id: str, currency: str, invoiced: int = 0, credited: int = 0
) -> None:
    """An invoice (`invoiced`) or credit note (`credited`) was issued to the customer."""
    seq = await events.reserve(session, EventType.CUSTOMER_UPDATED, customer_id)
    await session.execute(
        insert(CustomerSpendRecord)
        .values(customer_id=customer_id, currency=currency, invoiced=invoiced, credited=credited)
        .on_conflict_do_update(
            index_elements=[CustomerSpendRecord.customer_id, CustomerSpendRecord.currency],
            set_={
                "invoiced": CustomerSpendRecord.invoiced + invoiced,
                "credited": CustomerSpendRecord.credited + credited,
            },
        )
    )
    await publish(session, customer_id, seq)


async def reserve(session: AsyncSession, customer_id: str) -> int | None:
    """Queue as a writer of the customer (db/store_credit.py: before its balance row), for a
    `publish` once the change is made; None for a customer who never ordered (goodwill credit
    may name anyone): no view, no event."""
    if await session.get(CustomerRecord, customer_id) is None:
        return None
    return await events.reserve(session, EventType.CUSTOMER_UPDATED, customer_id)


async def publish(session: AsyncSession, customer_id: str, seq: int) -> None:
    """`customer.updated` numbered `seq`, with the view as it is now (one statement)."""
    written = await session.execute(_PUBLISH, {"id": customer_id, "seq": seq} | _UPDATED)
    if not written.rowcount:  # type: ignore[attr-defined]
        raise LookupError(f"customer {customer_id} has no view to publish")


async def view_of(session: AsyncSession, customer_id: str) -> dict[str, Any] | None:
    """The customer as GET /v1/customers/{id} shows them, or None."""
    found = await views(session, [customer_id])
    return found[0] if found else None


async def views(session: AsyncSession, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The views of these customers (the ones that exist), by id."""
    return list(await session.scalars(_VIEWS, {"ids": list(ids)}))


async def page(
    session: AsyncSession,
    email: str | None,
    after: str | None,
    limit: int,
    channel: str | None = None,
) -> Sequence[str]:
    """Customer ids in order, after `after`; of one email (any case), of one channel's orders."""
    query = select(CustomerRecord.id)
    if email is not None:
        query = query.where(func.lower(CustomerRecord.email) == email.lower())
    if after is not None:
        query = query.where(CustomerRecord.id > after)
    if channel is not None:
        ordered_here = select(OrderRecord.id).where(
            OrderRecord.customer_id == CustomerRecord.id, OrderRecord.channel == channel
        )
        query = query.where(ordered_here.exists())
    return (await session.scalars(query.order_by(CustomerRecord.id).limit(limit))).all()
