"""The invariants of returns and claims: what came back against what was shipped, the stock
each received unit moved, the money given back for it, the order placed in its stead.

Every violation is about the order the return or claim is for. db/invariants.py runs these with
the others, and `returns_not_terminal` when nothing should be in flight any more.
"""

from dataclasses import dataclass

from db.return_books import NOT_REFUNDED
from db.returns import RESTOCK, WRITE_OFF
from db.violations import Check, Invariant, gapped, listing, scoped_sql
from workflows.return_contracts import RETURN_TERMINAL, Resolution

# The constants the queries name, bound as parameters so that the SQL cannot drift from them.
# `refused`: db/return_books.py's note when the order could not give the money back.
_PARAMS = {
    "restock": RESTOCK,
    "write_off": WRITE_OFF,
    "terminal": sorted(status.value for status in RETURN_TERMINAL),
    "refused": f"%{NOT_REFUNDED}%",
}

# Per (order, SKU): units received back by returns plus units claimed, against the order's
# line; a return line for a SKU not on the order shows too.
_RETURNED = scoped_sql("""
    WITH back AS (
        SELECT r.order_id AS c, l.sku,
               sum(CASE r.kind WHEN 'claim' THEN l.quantity ELSE l.resellable + l.damaged END)
                   AS units
        FROM return_lines AS l JOIN returns AS r ON r.id = l.return_id GROUP BY c, l.sku),
    line AS (SELECT order_id AS c, sku, sum(quantity) AS shipped FROM order_lines GROUP BY c, sku)
    SELECT c AS order_id, sku, units,
           coalesce(shipped || ' shipped', 'not on the order') AS against
    FROM back LEFT JOIN line USING (c, sku)
    WHERE {orders} AND (shipped IS NULL OR units > shipped) ORDER BY c, sku""")


_returned = listing(
    Invariant.RETURNED_BEYOND_SHIPPED,
    _RETURNED,
    "order {order_id}: {units} × {sku} returned or claimed, {against}",
)


# Per (return, SKU): the units its lines count as received, the movements booked for them and
# the receipts scanned, full-joined so that each shows without the others; movements of a
# return restock or write-off naming no return (or another order) show too.
_RECEIVED = scoped_sql("""
    WITH line AS (SELECT return_id, sku, sum(resellable) AS resellable, sum(damaged) AS damaged
                  FROM return_lines GROUP BY return_id, sku),
    moved AS (
        SELECT m.return_id, m.sku, min(m.order_id) AS moved_for,
               sum(m.delta) FILTER (WHERE m.reason = :restock AND m.stock = 'sellable')
                   AS restocked,
               sum(m.delta) FILTER (WHERE m.reason = :write_off AND m.stock = 'damaged')
                   AS written_off,
               count(*) FILTER (WHERE (m.reason, m.stock) NOT IN ((:restock, 'sellable'),
                                                                  (:write_off, 'damaged')))
                   AS misfiled,
               count(*) FILTER (WHERE m.order_id IS DISTINCT FROM r.order_id) AS elsewhere
        FROM stock_movements AS m LEFT JOIN returns AS r ON r.id = m.return_id
        WHERE m.return_id IS NOT NULL OR m.reason IN (:restock, :write_off)
        GROUP BY m.return_id, m.sku),
    scanned AS (
        SELECT return_id, x.sku,
               sum(x.quantity) FILTER (WHERE x.condition = 'resellable') AS scanned_resellable,
               sum(x.quantity) FILTER (WHERE x.condition = 'damaged') AS scanned_damaged
        FROM return_receipts, jsonb_to_recordset(lines) AS x(sku text, quantity int, condition text)
        GROUP BY return_id, x.sku),
    each AS (SELECT * FROM line FULL JOIN moved USING (return_id, sku)
             FULL JOIN scanned USING (return_id, sku))
    SELECT c AS order_id, return_id, sku, known, resellable, damaged, restocked, written_off,
           scanned_resellable, scanned_damaged, misfiled, elsewhere
    FROM (SELECT coalesce(r.order_id, e.moved_for) AS c, e.return_id, e.sku,
                 r.id IS NOT NULL AS known, coalesce(resellable, 0) AS resellable,
                 coalesce(damaged, 0) AS damaged, coalesce(restocked, 0) AS restocked,
                 coalesce(written_off, 0) AS written_off,
                 coalesce(scanned_resellable, 0) AS scanned_resellable,
                 coalesce(scanned_damaged, 0) AS scanned_damaged,
                 coalesce(misfiled, 0) AS misfiled, coalesce(elsewhere, 0) AS elsewhere
          FROM each AS e LEFT JOIN returns AS r ON r.id = e.return_id) AS t
    WHERE {orders} AND NOT (known AND misfiled = 0 AND elsewhere = 0
                            AND restocked = resellable AND written_off = damaged
                            AND scanned_resellable = resellable AND scanned_damaged = damaged)
    ORDER BY c, return_id, sku""")


@dataclass(frozen=True)
class _Received:
    """One (return, SKU) as `_RECEIVED` sees it."""

    order_id: str | None
    return_id: str | None
    sku: str
    known: bool
    resellable: int
    damaged: int
    restocked: int
    written_off: int
    scanned_resellable: int
    scanned_damaged: int
    misfiled: int
    elsewhere: int

    def about(self) -> str:
        return f"return {self.return_id}, {self.sku}" if self.known else f"{self.sku} moved"

    def gaps(self) -> list[str]:
        """As many received of each condition as were booked and scanned, booked rightly."""
        if not self.known:
            return [f"for no return ({self.return_id})"]
        counts = (
            ("resellable", self.resellable, "restocked", self.restocked),
            ("damaged", self.damaged, "written off", self.written_off),
            ("resellable", self.resellable, "scanned resellable", self.scanned_resellable),
            ("damaged", self.damaged, "scanned damaged", self.scanned_damaged),
        )
        return [
            *(f"{n} {what} received, {m} {booked}" for what, n, booked, m in counts if n != m),
            f"{self.misfiled} movements of the wrong reason or stock" if self.misfiled else "",
            f"{self.elsewhere} movements booked for another order" if self.elsewhere else "",
        ]


_received = gapped(Invariant.RETURN_STOCK_MISMATCH, _RECEIVED, _Received, _PARAMS)


# Per return or claim that finished or has refunds: the value of what came back (a claim: of
# its lines), its refunds that are not failed, and whether its resolution was refused.
_MONEY_BACK = scoped_sql("""
    WITH line AS (SELECT return_id, sum(quantity * unit_price) AS asked,
                         sum((resellable + damaged) * unit_price) AS received
                  FROM return_lines GROUP BY return_id),
    back AS (SELECT f.return_id, count(*) FILTER (WHERE f.status <> 'failed') AS refunds,
                    sum(f.amount) FILTER (WHERE f.status <> 'failed') AS refunded,
                    count(*) FILTER (WHERE f.order_id <> r.order_id) AS elsewhere
             FROM refunds AS f JOIN returns AS r ON r.id = f.return_id GROUP BY f.return_id),
    done AS (SELECT return_id, bool_or(reason LIKE :refused) AS refused FROM return_history
             WHERE status = 'completed' GROUP BY return_id)
    SELECT c AS order_id, id, kind, status, resolution, coalesce(asked, 0) AS asked,
           coalesce(received, 0) AS received, coalesce(refunds, 0) AS refunds,
           coalesce(refunded, 0) AS refunded, coalesce(elsewhere, 0) AS elsewhere,
           coalesce(refused, FALSE) AS refused
    FROM (SELECT *, order_id AS c FROM returns) AS r
    LEFT JOIN line ON line.return_id = r.id LEFT JOIN back ON back.return_id = r.id
    LEFT JOIN done ON done.return_id = r.id
    WHERE {orders} AND (status <> ALL(CAST(:terminal AS text[]))
                        OR status IN ('completed', 'expired') OR refunds > 0)
    ORDER BY c, id""")


@dataclass(frozen=True)
class _MoneyBack:
    """One return or claim as `_MONEY_BACK` sees it."""

    order_id: str
    id: str
    kind: str
    status: str
    resolution: str
    asked: int
    received: int
    refunds: int
    refunded: int
    elsewhere: int
    refused: bool

    def about(self) -> str:
        return f"{self.kind} {self.id} ({self.status}, {self.resolution})"

    def gaps(self) -> list[str]:
        """Refunds never above the value of what came back (a claim: of what it claims); once
        finished, adding up to it (nothing for a reship, or a refund the order refused), as
        exactly one for a refund or store credit (an exchange's may be two: the credit paying
        its order, and the rest)."""
        value = self.asked if self.kind == "claim" else self.received
        came = f"the {value} that {'was claimed' if self.kind == 'claim' else 'came back'}"
        refunds = f"{self.refunds} refunds of {self.refunded}"
        if self.status not in RETURN_TERMINAL:
            return [f"{refunds}, more than {came}" if self.refunded > value else ""]
        owed = self.kind == "return" or self.status == "completed"
        due = value if owed and not self.refused and self.resolution != Resolution.RESHIP else 0
        one = self.resolution in (Resolution.REFUND, Resolution.STORE_CREDIT) and due > 0
        return [
            f"{refunds}, {due} due for {came}" if self.refunded != due else "",
            f"{self.refunds} refunds, one due" if one and self.refunds != 1 else "",
            f"{self.elsewhere} refunds of another order" if self.elsewhere else "",
        ]


_money_back = gapped(Invariant.RETURN_REFUND_MISMATCH, _MONEY_BACK, _MoneyBack, _PARAMS)


# Per return or claim with a replacement order, due one or naming one, and per order placed as
# a replacement: full-joined by the order's `placed_by_return`, so that a replacement no return
# placed shows as well as a return whose replacement is missing or another.
_REPLACEMENTS = scoped_sql("""
    WITH placed AS (SELECT id AS placed, placed_by_return, exchange_for, awaits_return
                    FROM orders WHERE placed_by_return IS NOT NULL OR exchange_for IS NOT NULL),
    each AS (SELECT coalesce(r.order_id, p.exchange_for, p.placed) AS c, r.id AS return_id,
                    r.kind, r.status, r.resolution, r.advance, r.exchange_order_id AS named,
                    p.placed, p.exchange_for, p.awaits_return
             FROM returns AS r FULL JOIN placed AS p ON p.placed_by_return = r.id)
    SELECT c AS order_id, return_id, kind, status, resolution, advance, named, placed,
           exchange_for, awaits_return
    FROM each
    WHERE {orders} AND (named IS NOT NULL OR placed IS NOT NULL
                        OR (status = 'completed' AND resolution IN ('exchange', 'reship'))
                        OR (advance AND status = 'expired'))
    ORDER BY c, return_id""")


@dataclass(frozen=True)
class _Replacement:
    """A return and the order placed for it, as `_REPLACEMENTS` sees them."""

    order_id: str
    return_id: str | None  # None: an order placed as a replacement by no return
    kind: str | None
    status: str | None
    resolution: str | None
    advance: bool | None
    named: str | None  # returns.exchange_order_id
    placed: str | None  # the order whose placed_by_return is the return
    exchange_for: str | None
    awaits_return: bool | None

    def about(self) -> str:
        return "a replacement" if self.return_id is None else f"{self.kind} {self.return_id}"

    def gaps(self) -> list[str]:
        """A finished exchange or reship (an advance exchange: also expired) names its order,
        the one order it placed, which replaces the return's order; nothing else has one."""
        if self.return_id is None:
            return [f"order {self.placed} replaces order {self.exchange_for}, placed by no return"]
        due = self.resolution in (Resolution.EXCHANGE, Resolution.RESHIP)
        return [
            f"no replacement order ({self.status} {self.resolution})"
            if self.named is None and self.placed is None
            else "",
            f"names {self.named}, placed {self.placed}" if self.named != self.placed else "",
            f"its order {self.placed} replaces {self.exchange_for}"
            if self.placed and self.exchange_for != self.order_id
            else "",
            f"its order {self.placed} awaits_return {self.awaits_return}, advance {self.advance}"
            if self.placed and self.awaits_return != self.advance
            else "",
            f"a {self.resolution} with a replacement order" if not due else "",
        ]


_replacements = gapped(Invariant.REPLACEMENT_MISMATCH, _REPLACEMENTS, _Replacement)


# A return that ended without its parcel (or before it) has its label voided. The simulated
# carrier keeps a return's label under `return-{id}` (simulation/carrier.return_label_key).
_LABELS = scoped_sql("""
    SELECT c AS order_id, r.id, r.kind, r.status, s.tracking_number
    FROM (SELECT *, order_id AS c FROM returns) AS r
    JOIN sim_shipments AS s ON s.order_id = 'return-' || r.id
    WHERE {orders} AND r.status IN ('declined', 'expired', 'cancelled')
          AND s.status <> 'voided'
    ORDER BY c, r.id""")


_NOT_TERMINAL = scoped_sql("""
    SELECT c AS order_id, id, kind, status FROM (SELECT *, order_id AS c FROM returns) AS r
    WHERE status <> ALL(CAST(:terminal AS text[])) AND {orders} ORDER BY c, id""")

_labels = listing(
    Invariant.NOT_COMPENSATED,
    _LABELS,
    "order {order_id}: {status} {kind} {id}, its label {tracking_number} not voided",
)
# Returns and claims still running (for `require_terminal`).
returns_not_terminal = listing(
    Invariant.NOT_TERMINAL,
    _NOT_TERMINAL,
    "{kind} {id} of order {order_id} is {status}",
    _PARAMS,
)

RETURN_CHECKS: tuple[Check, ...] = (_returned, _received, _money_back, _replacements, _labels)
