"""What must hold in the database whatever crashed or retried: one set-based query per invariant.

`check()` is safe on a live system: it only reads, and each invariant is one statement, which
sees one consistent snapshot. Pass `require_terminal=True` only when nothing should be in flight
any more, e.g. after a test's fault.
`python -m db.invariants` runs it from the command line (`make check`).
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_invariants import INTEGRATION_CHECKS
from db.ledger_invariants import LEDGER_CHECKS
from db.money_invariants import MONEY_CHECKS
from db.return_invariants import RETURN_CHECKS, returns_not_terminal
from db.session import SessionFactory, create_engine, create_session_factory
from db.violations import Check, Invariant, Violation
from db.violations import scoped_sql as _sql
from settings import Settings, get_settings

# Invariant and Violation live in db.violations (the money checks report them too); callers
# find them here, with check().
__all__ = ["Invariant", "Violation", "check", "default_url", "main", "run"]

_NOT_TERMINAL = _sql("""
    SELECT c AS id, status FROM orders AS o(c)
    WHERE status NOT IN ('completed', 'cancelled', 'failed') AND {orders} ORDER BY c""")

# Rows an order may have at most one of, as (what, table, grouping beyond order_id, filter).
# Written against (order, kind) rather than trusting keys: a key may change, a count cannot lie.
_AT_MOST_ONE = (
    ("reservation", "reservations", "sku", "TRUE"),
    # A change may adjust many times, an order be refunded many times.
    ("payment", "sim_payments", "kind", "kind NOT IN ('adjust', 'refund')"),
    ("warehouse task", "sim_warehouse_tasks", "kind", "TRUE"),
    ("label", "sim_shipments", "'label'", "TRUE"),
    ("shipment", "shipments", "'shipment'", "TRUE"),
    ("book-out movement", "stock_movements", "sku", "reason = 'shipment'"),
)

# on_hand is the sum of the `sellable` movements, the damaged count that of the `damaged` ones.
_SKU_BOOKS = _sql("""
    WITH i AS (SELECT sku AS c, on_hand, reserved, damaged FROM inventory_items),
    r AS (SELECT sku AS c, sum(quantity) AS held FROM reservations
          WHERE status = 'open' GROUP BY c),
    m AS (SELECT sku AS c, sum(delta) FILTER (WHERE stock = 'sellable') AS moved,
                 sum(delta) FILTER (WHERE stock = 'damaged') AS written_off
          FROM stock_movements GROUP BY c)
    SELECT c AS sku, on_hand, reserved, coalesce(held, 0) AS held, coalesce(moved, 0) AS moved,
           damaged, coalesce(written_off, 0) AS written_off
    FROM i LEFT JOIN r USING (c) LEFT JOIN m USING (c)
    WHERE {skus} AND NOT (0 <= reserved AND reserved <= on_hand
                          AND reserved = coalesce(held, 0) AND on_hand = coalesce(moved, 0)
                          AND damaged = coalesce(written_off, 0))
    ORDER BY c""")

# Book-outs per (order, SKU) against the reservation they took: a full join, so a movement
# with no shipped reservation behind it shows as well as a shipped one never booked out.
_BOOK_OUTS = _sql("""
    WITH r AS (SELECT order_id AS c, sku,
                      CASE WHEN status = 'shipped' THEN quantity ELSE 0 END AS expected
               FROM reservations),
    m AS (SELECT order_id AS c, sku, -sum(delta) AS moved FROM stock_movements
          WHERE reason = 'shipment' GROUP BY c, sku)
    SELECT c AS order_id, sku, coalesce(expected, 0) AS expected, coalesce(moved, 0) AS moved
    FROM r FULL JOIN m USING (c, sku)
    WHERE {orders} AND coalesce(expected, 0) <> coalesce(moved, 0) ORDER BY c, sku""")

# Per order: its payments, reservations, labels, shipments and warehouse tasks, counted.
_FACTS = """
    WITH pay AS (SELECT order_id AS c, count(*) FILTER (WHERE kind = 'authorize') AS auths,
                        count(*) FILTER (WHERE kind = 'capture') AS captures,
                        count(*) FILTER (WHERE kind = 'void') AS voids,
                        coalesce(sum(amount) FILTER (WHERE kind = 'capture'), 0) AS captured
                 FROM sim_payments GROUP BY c),
    res AS (SELECT order_id AS c, count(*) FILTER (WHERE status = 'open') AS open,
                   count(*) FILTER (WHERE status = 'shipped') AS shipped
            FROM reservations GROUP BY c),
    lin AS (SELECT l.order_id AS c, bool_and(r.status IS NOT DISTINCT FROM 'shipped'
                                             AND r.quantity = l.quantity) AS all_shipped
            FROM order_lines AS l LEFT JOIN reservations AS r USING (order_id, sku) GROUP BY c),
    lab AS (SELECT order_id AS c, count(*) AS labels,
                   count(*) FILTER (WHERE status <> 'voided') AS live_labels
            FROM sim_shipments GROUP BY c),
    shp AS (SELECT order_id AS c, count(*) AS shipments FROM shipments GROUP BY c),
    wh AS (SELECT order_id AS c, count(*) FILTER (WHERE status <> 'cancelled') AS live_tasks
           FROM sim_warehouse_tasks GROUP BY c)
    SELECT c AS id, total, store_credit, awaits_return, coalesce(auths, 0) AS auths,
           coalesce(captures, 0) AS captures, coalesce(voids, 0) AS voids,
           coalesce(captured, 0) AS captured, coalesce(open, 0) AS open,
           coalesce(shipped, 0) AS shipped, coalesce(all_shipped, FALSE) AS all_shipped,
           coalesce(labels, 0) AS labels, coalesce(live_labels, 0) AS live_labels,
           coalesce(shipments, 0) AS shipments, coalesce(live_tasks, 0) AS live_tasks
    FROM (SELECT id AS c, total, store_credit, awaits_return, status FROM orders) AS o
    LEFT JOIN pay USING (c) LEFT JOIN res USING (c) LEFT JOIN lin USING (c)
    LEFT JOIN lab USING (c) LEFT JOIN shp USING (c) LEFT JOIN wh USING (c)
    WHERE {orders} AND status IN """
_COMPLETED = _sql(_FACTS + "('completed') ORDER BY c")
_STOPPED = _sql(_FACTS + "('cancelled', 'failed') ORDER BY c")


def _at_most_one(table: str, key: str, where: str) -> TextClause:
    return _sql(
        f"SELECT c AS order_id, {key} AS key, count(*) AS n "
        f"FROM (SELECT *, order_id AS c FROM {table} WHERE {where}) AS t "
        "WHERE {orders} GROUP BY c, key HAVING count(*) > 1 ORDER BY c"
    )


async def _not_terminal(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_NOT_TERMINAL, {"ids": ids})
    return [
        Violation(kind=Invariant.NOT_TERMINAL, subject=r.id, message=f"order {r.id} is {r.status}")
        for r in rows
    ]


async def _duplicates(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    for what, table, key, where in _AT_MOST_ONE:
        rows = await session.execute(_at_most_one(table, key, where), {"ids": ids})
        found += [
            Violation(
                kind=Invariant.DUPLICATE,
                subject=r.order_id,
                message=f"order {r.order_id} has {r.n} {what} rows for {r.key} in {table}",
            )
            for r in rows
        ]
    return found


async def _sku_books(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    for r in await session.execute(_SKU_BOOKS, {"ids": ids}):
        broken = (
            (not 0 <= r.reserved <= r.on_hand, Invariant.RESERVED_OUT_OF_BOUNDS, "on_hand"),
            (r.reserved != r.held, Invariant.RESERVED_MISMATCH, "open reservations"),
            (r.on_hand != r.moved, Invariant.ON_HAND_MISMATCH, "sum of movements"),
        )
        books = f"on_hand {r.on_hand}, reserved {r.reserved}"
        found += [
            Violation(kind=kind, subject=r.sku, message=f"SKU {r.sku}: {books}, {against} broken")
            for is_broken, kind, against in broken
            if is_broken
        ]
        if r.damaged != r.written_off:
            message = f"SKU {r.sku}: damaged {r.damaged}, {r.written_off} in damaged movements"
            found.append(Violation(kind=Invariant.DAMAGED_MISMATCH, subject=r.sku, message=message))
    return found


async def _book_outs(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_BOOK_OUTS, {"ids": ids})
    return [
        Violation(
            kind=Invariant.BOOK_OUT_MISMATCH,
            subject=r.order_id,
            message=f"order {r.order_id}: {r.moved} × {r.sku} booked out, {r.expected} shipped",
        )
        for r in rows
    ]


@dataclass(frozen=True)
class _Facts:
    """One order as `_FACTS` sees it."""

    id: str
    total: int
    store_credit: int
    awaits_return: bool
    auths: int
    captures: int
    voids: int
    captured: int
    open: int
    shipped: int
    all_shipped: bool
    labels: int
    live_labels: int
    shipments: int
    live_tasks: int


def _completed_gaps(o: _Facts) -> list[str]:
    """What a completed order lacks: one authorization and one capture of what the card pays
    (its total less its store credit; none at all when credit pays it all), one shipment. An
    advance exchange's card was authorized for its whole total before its return paid part of
    it: voided when the return paid it all."""
    card = o.total - o.store_credit
    calls = 1 if card else 0
    auths = 1 if o.awaits_return and o.total else calls
    less = f" less {o.store_credit} store credit" if o.store_credit else ""
    gaps = [
        f"{o.auths} authorizations" if o.auths != auths else "",
        f"{o.captures} captures" if o.captures != calls else "",
        f"captured {o.captured} of a {o.total} total{less}" if o.captured != card else "",
        f"{o.voids} voids" if o.voids != auths - calls else "",
        f"{o.labels} labels" if o.labels != 1 else "",
        f"{o.shipments} shipments" if o.shipments != 1 else "",
        "" if o.all_shipped else "its lines not all reserved and shipped",
    ]
    return [gap for gap in gaps if gap]


def _compensation_gaps(o: _Facts) -> list[str]:
    """What a cancelled or failed order still holds after its undos should have run."""
    before_shipping = o.shipped == 0  # once shipped, only the authorization is undone
    gaps = [
        f"{o.open} open reservations" if o.open else "",
        f"{o.captures} captures" if o.captures else "",
        "an authorization never voided" if o.auths and not o.voids else "",
        f"{o.live_labels} labels not voided" if o.live_labels and before_shipping else "",
        f"{o.live_tasks} warehouse tasks not cancelled" if o.live_tasks and before_shipping else "",
    ]
    return [gap for gap in gaps if gap]


async def _outcomes(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    checks = (
        (_COMPLETED, _completed_gaps, Invariant.COMPLETED_INCOMPLETE, "completed"),
        (_STOPPED, _compensation_gaps, Invariant.NOT_COMPENSATED, "cancelled/failed"),
    )
    for query, gaps_of, kind, status in checks:
        for row in await session.execute(query, {"ids": ids}):
            if gaps := gaps_of(_Facts(**row._mapping)):
                message = f"{status} order {row.id}: {', '.join(gaps)}"
                found.append(Violation(kind=kind, subject=row.id, message=message))
    return found


async def check(
    sessions: SessionFactory,
    order_ids: Sequence[str] | None = None,
    *,
    require_terminal: bool = False,
) -> list[Violation]:
    """Every broken invariant among `order_ids` (and their SKUs), or everywhere; [] when sound."""
    ids = None if order_ids is None else list(order_ids)
    checks: list[Check] = [_duplicates, _sku_books, _book_outs, _outcomes, *MONEY_CHECKS]
    checks += [*LEDGER_CHECKS, *RETURN_CHECKS, *INTEGRATION_CHECKS]
    if require_terminal:
        checks[:0] = [_not_terminal, returns_not_terminal]
    async with sessions() as session:
        return [violation for one in checks for violation in await one(session, ids)]


def default_url(settings: Settings) -> str:
    """OMS_DATABASE_URL, else the embedded server `make run` starts."""
    port = settings.postgres_port
    return settings.database_url or f"postgresql+psycopg://postgres@127.0.0.1:{port}/oms"


async def run(url: str, require_terminal: bool) -> int:
    """Check the database at `url`: 0 when sound, 1 listing the violations, 2 if unreachable."""
    engine = create_engine(Settings(database_url=url, db_pool_size=1))
    try:
        found = await check(create_session_factory(engine), require_terminal=require_terminal)
    except DBAPIError as error:
        sys.stderr.write(f"cannot check {engine.url!r}: {error.orig}\n")
        return 2
    finally:
        await engine.dispose()
    summary = f"{len(found)} violations" if found else "invariants hold"
    sys.stdout.writelines([*(f"{violation}\n" for violation in found), f"{summary}\n"])
    return 1 if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.invariants", description=__doc__)
    parser.add_argument("--database-url", default=default_url(get_settings()))
    parser.add_argument(
        "--require-terminal",
        action="store_true",
        help="also require every order, return and claim to be finished",
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(args.database_url, args.require_terminal))


if __name__ == "__main__":
    sys.exit(main())
