"""The customer view: kept current by the transactions that place orders, issue documents and move
store credit, each emitting `customer.updated` with the view as it is after the change.

Several transactions may change one customer at once (two orders, an invoice, a refund). Each
takes the customer's event-stream row first (`events.reserve`) and only then reads the view it
publishes: the writers of one customer queue there, so each event's view holds every change of
the events numbered before it. The work done while queued is one statement each for the
change, the view and the event: a customer placing many orders at once waits little.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import events, snapshots
from db.models import CustomerRecord, CustomerSpendRecord, OrderRecord
from integration.catalog import EventType

ADDRESSES_KEPT = 5  # the most recent distinct shipping addresses

# The order counted, its address first among the kept ones; its contact taken unless a newer
# order's already was (concurrent placements may commit in either order).
_PLACED = text(f"""
    INSERT INTO customers AS c (id, email, name, addresses, orders_count, first_order_at,
                                last_order_at, updated_at)
    VALUES (:id, :email, :name, jsonb_build_array(:address), 1, :at, :at, now())
    ON CONFLICT (id) DO UPDATE SET
        orders_count = c.orders_count + 1,
        email = CASE WHEN excluded.last_order_at >= c.last_order_at
                     THEN excluded.email ELSE c.email END,
        name = CASE WHEN excluded.last_order_at >= c.last_order_at
                    THEN excluded.name ELSE c.name END,
        first_order_at = least(c.first_order_at, excluded.first_order_at),
        last_order_at = greatest(c.last_order_at, excluded.last_order_at),
        addresses = (
            SELECT coalesce(jsonb_agg(address ORDER BY first), '[]'::jsonb)
            FROM (SELECT address, min(n) AS first
                  FROM jsonb_array_elements(excluded.addresses || c.addresses)
                       WITH ORDINALITY AS known(address, n)
                  GROUP BY address ORDER BY first LIMIT {ADDRESSES_KEPT}) AS kept),
        updated_at = now()""").bindparams(bindparam("address", type_=JSONB))

# The view of some customers in one round trip: their row, money spent and store credit.
_VIEWS = text("""
    SELECT c.id, c.email, c.name, c.addresses, c.orders_count, c.first_order_at,
           c.last_order_at,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('currency', s.currency,
                                                         'amount', s.invoiced - s.credited)
                                      ORDER BY s.currency), '[]'::jsonb)
            FROM customer_spend AS s WHERE s.customer_id = c.id) AS total_spent,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('currency', a.currency,
                                                         'balance', a.balance)
                                      ORDER BY a.currency), '[]'::jsonb)
            FROM store_credit_accounts AS a WHERE a.customer_id = c.id) AS store_credit
    FROM customers AS c WHERE c.id = ANY(CAST(:ids AS text[])) ORDER BY c.id""")


async def order_placed(session: AsyncSession, order: OrderRecord) -> None:
    """Count the order, take its email, name and address as the newest; `customer.updated`."""
    seq = await events.reserve(session, EventType.CUSTOMER_UPDATED, order.customer_id)
    await session.execute(
        _PLACED,
        {
            "id": order.customer_id,
            "email": order.customer_email,
            "name": order.customer_name,
            "address": order.shipping_address,
            "at": order.created_at,
        },
    )
    await publish(session, order.customer_id, seq)


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


async def view_of(session: AsyncSession, customer_id: str) -> dict[str, Any] | None:
    """The customer as GET /v1/customers/{id} shows them, or None."""
    found = await views(session, [customer_id])
    return found[0] if found else None


async def views(session: AsyncSession, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The views of these customers (the ones that exist), by id."""
    rows = await session.execute(_VIEWS, {"ids": list(ids)})
    return [
        {
            "id": row.id,
            "email": row.email,
            "name": row.name,
            "addresses": row.addresses,
            "orders_count": row.orders_count,
            "total_spent": row.total_spent,
            "first_order_at": snapshots.iso(row.first_order_at),
            "last_order_at": snapshots.iso(row.last_order_at),
            "store_credit": row.store_credit,
        }
        for row in rows
    ]


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


async def publish(session: AsyncSession, customer_id: str, seq: int) -> None:
    """`customer.updated` numbered `seq`, with the view as it is now."""
    view = await view_of(session, customer_id)
    if view is None:
        raise LookupError(f"customer {customer_id} has no view to publish")
    data = {"customer": view}
    await events.write(session, EventType.CUSTOMER_UPDATED, customer_id, seq, data)
