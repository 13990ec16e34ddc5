"""The integration module's invariants: the outbox holds exactly the events of what happened,
numbered without gaps, and the customer view agrees with the orders and documents it sums.

Orders placed before the outbox existed (migration 0007 notes when, in `outbox_started`) have
no events: the event checks cover the orders placed since. db/invariants.py runs these with the
others.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.violations import Check, Invariant, Violation, gapped, scoped_sql

VIEW = Invariant.CUSTOMER_VIEW_MISMATCH

# Per aggregate: its sequence numbers are 1..n, each once, and its stream row says n. Scoped to
# some orders, the orders' own streams.
_SEQUENCES = scoped_sql("""
    WITH e AS (SELECT aggregate, aggregate_id AS c, count(*) AS events,
                      count(DISTINCT seq) AS numbers, min(seq) AS first, max(seq) AS last
               FROM events GROUP BY aggregate, c)
    SELECT * FROM (
        SELECT aggregate, c AS id, coalesce(events, 0) AS events,
               coalesce(numbers, 0) AS numbers, coalesce(first, 0) AS first,
               coalesce(last, 0) AS last, coalesce(s.seq, 0) AS stream
        FROM e FULL JOIN (SELECT aggregate, aggregate_id AS c, seq FROM event_streams) AS s
             USING (aggregate, c)
        WHERE {ids} IS NULL OR (aggregate = 'order' AND {orders})) AS streams
    WHERE NOT (first = 1 AND last = events AND numbers = events AND stream = last)
    ORDER BY aggregate, id""")

# Per order placed since the outbox began: one order.created, and one order.status_changed
# per move its history records (a row whose status differs from the row before it).
_ORDER_EVENTS = scoped_sql("""
    WITH o AS (SELECT id AS c FROM orders, outbox_started AS since WHERE created_at >= since.at),
    moves AS (SELECT order_id AS c, count(*) AS moves FROM (
                  SELECT order_id, status,
                         lag(status) OVER (PARTITION BY order_id ORDER BY seq) AS before
                  FROM order_history) AS h
              WHERE before IS NOT NULL AND status <> before GROUP BY c),
    e AS (SELECT aggregate_id AS c,
                 count(*) FILTER (WHERE type = 'order.created') AS created,
                 count(*) FILTER (WHERE type = 'order.status_changed') AS changed
          FROM events WHERE aggregate = 'order' GROUP BY c)
    SELECT c AS order_id, coalesce(created, 0) AS created, coalesce(moves, 0) AS moves,
           coalesce(changed, 0) AS changed
    FROM o LEFT JOIN moves USING (c) LEFT JOIN e USING (c)
    WHERE {orders} AND (coalesce(created, 0) <> 1 OR coalesce(moves, 0) <> coalesce(changed, 0))
    ORDER BY c""")

# Per customer: the view against their orders (count, first and last, the newest's contact)
# and their documents (invoiced and credited per currency). Full joins: a customer with orders
# and no view row shows, as does a view row nothing backs.
_CUSTOMERS = scoped_sql("""
    WITH o AS (SELECT customer_id AS c, count(*) AS orders, min(created_at) AS first,
                      max(created_at) AS last,
                      (array_agg(customer_email ORDER BY created_at DESC, id DESC))[1] AS email,
                      (array_agg(customer_name ORDER BY created_at DESC, id DESC))[1] AS name
               FROM orders GROUP BY c),
    d AS (SELECT o.customer_id AS c, d.currency,
                 sum(d.total) FILTER (WHERE d.kind = 'invoice') AS invoiced,
                 sum(d.total) FILTER (WHERE d.kind = 'credit_note') AS credited
          FROM documents AS d JOIN orders AS o ON o.id = d.order_id
          GROUP BY o.customer_id, d.currency),
    spend AS (SELECT coalesce(d.c, s.customer_id) AS c,
                     array_agg(coalesce(d.currency, s.currency)) FILTER (WHERE
                         coalesce(d.invoiced, 0) <> coalesce(s.invoiced, 0)
                         OR coalesce(d.credited, 0) <> coalesce(s.credited, 0)) AS off
              FROM d FULL JOIN customer_spend AS s
                   ON s.customer_id = d.c AND s.currency = d.currency
              GROUP BY 1)
    SELECT c AS customer_id, v.orders_count, coalesce(o.orders, 0) AS orders,
           v.first_order_at = o.first AS first_ok, v.last_order_at = o.last AS last_ok,
           v.email = o.email AND v.name = o.name AS contact_ok, spend.off AS spend_off
    FROM (SELECT id AS c, orders_count, first_order_at, last_order_at, email, name
          FROM customers) AS v
    FULL JOIN o USING (c) LEFT JOIN spend USING (c)
    WHERE {customers} AND (v.orders_count IS DISTINCT FROM coalesce(o.orders, 0)
                           OR NOT coalesce(v.first_order_at = o.first, false)
                           OR NOT coalesce(v.last_order_at = o.last, false)
                           OR NOT coalesce(v.email = o.email AND v.name = o.name, false)
                           OR spend.off IS NOT NULL)
    ORDER BY c""")


@dataclass(frozen=True)
class _OrderEvents:
    order_id: str
    created: int
    moves: int
    changed: int

    def about(self) -> str:
        return "its events"

    def gaps(self) -> list[str]:
        return [
            f"{self.created} order.created events" if self.created != 1 else "",
            f"{self.moves} moves in its history but {self.changed} order.status_changed"
            if self.moves != self.changed
            else "",
        ]


async def _sequences(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_SEQUENCES, {"ids": ids})
    return [
        Violation(
            kind=Invariant.EVENT_SEQUENCE_GAPPED,
            subject=r.id,
            message=f"{r.aggregate} {r.id}: {r.events} events numbered {r.first}..{r.last} "
            f"({r.numbers} distinct), its stream at {r.stream}",
        )
        for r in rows
    ]


async def _customers(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found = []
    for r in await session.execute(_CUSTOMERS, {"ids": ids}):
        if r.orders_count is None:
            message = f"customer {r.customer_id}: has {r.orders} orders and no view"
            found.append(Violation(kind=VIEW, subject=r.customer_id, message=message))
            continue
        gaps = [
            f"counts {r.orders_count} orders, has {r.orders}" if r.orders_count != r.orders else "",
            "first or last order time disagrees" if not (r.first_ok and r.last_ok) else "",
            "e-mail or name is not the newest order's" if not r.contact_ok else "",
            f"total spent disagrees with its documents in {r.spend_off}" if r.spend_off else "",
        ]
        message = f"customer {r.customer_id}: {', '.join(gap for gap in gaps if gap)}"
        found.append(Violation(kind=VIEW, subject=r.customer_id, message=message))
    return found


_order_events = gapped(Invariant.ORDER_EVENTS_MISMATCH, _ORDER_EVENTS, _OrderEvents)

INTEGRATION_CHECKS: tuple[Check, ...] = (_sequences, _order_events, _customers)
