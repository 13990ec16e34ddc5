"""The ledger-wide money invariants: store credit balances, document numbers, the journal.

Scoped to some orders, each covers what those orders touch: their customers' store credit, the
series and years their documents were numbered in, their journal entries (and their customers'
entries of no order, e.g. goodwill). db/invariants.py runs these with the others.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.violations import Check, Invariant, Violation, scoped_sql

# Per account: the balance against its entries; entries whose delta disagrees with their kind
# (+amount issued or released, -amount held, 0 redeemed), or whose order and refund do not fit
# it (credit from a refund names both, goodwill neither; a hold, release or redemption its order).
_STORE_CREDIT = scoped_sql("""
    WITH e AS (
        SELECT customer_id AS c, currency, sum(delta) AS summed,
               array_agg(id ORDER BY id) FILTER (WHERE delta <> CASE kind
                   WHEN 'held' THEN -amount WHEN 'redeemed' THEN 0 ELSE amount END) AS bad_delta,
               array_agg(id ORDER BY id) FILTER (WHERE CASE kind
                   WHEN 'issued' THEN (order_id IS NULL) <> (refund_id IS NULL)
                   ELSE order_id IS NULL OR refund_id IS NOT NULL END) AS misfiled
        FROM store_credit_entries GROUP BY c, currency)
    SELECT c AS customer_id, currency, balance, coalesce(summed, 0) AS summed,
           coalesce(bad_delta, '{{}}') AS bad_delta, coalesce(misfiled, '{{}}') AS misfiled
    FROM (SELECT customer_id AS c, currency, balance FROM store_credit_accounts) AS a
    LEFT JOIN e USING (c, currency)
    WHERE {customers} AND (balance <> coalesce(summed, 0) OR balance < 0
                           OR bad_delta IS NOT NULL OR misfiled IS NOT NULL)
    ORDER BY c, currency""")


@dataclass(frozen=True)
class _Account:
    customer_id: str
    currency: str
    balance: int
    summed: int
    bad_delta: list[int]
    misfiled: list[int]

    def __str__(self) -> str:
        gaps = [
            f"its entries sum to {self.summed}" if self.balance != self.summed else "",
            "below zero" if self.balance < 0 else "",
            f"entries {self.bad_delta} have a delta their kind forbids" if self.bad_delta else "",
            f"entries {self.misfiled} name an order or refund their kind forbids"
            if self.misfiled
            else "",
        ]
        account = f"store credit of {self.customer_id} in {self.currency}"
        return f"{account}: balance {self.balance}, {', '.join(gap for gap in gaps if gap)}"


async def _store_credit(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_STORE_CREDIT, {"ids": ids})
    accounts = [_Account(**row._mapping) for row in rows]
    return [
        Violation(kind=Invariant.STORE_CREDIT_MISMATCH, subject=a.customer_id, message=str(a))
        for a in accounts
    ]


# Per series and year, with its counter: how many documents, their lowest and highest seq, the
# numbers not spelled from their kind's series, year and seq (or numbered in another year than
# the UTC one they were issued in), and those issued before the number preceding them.
_NUMBERING = scoped_sql("""
    WITH d AS (
        SELECT *, lag(issued_at) OVER (PARTITION BY series, year ORDER BY seq) AS before
        FROM documents),
    g AS (
        SELECT series, year, count(*) AS n, min(seq) AS low, max(seq) AS high,
               array_agg(number ORDER BY seq) FILTER (WHERE number <> format('%s-%s-%s',
                   series, lpad(year::text, 4, '0'),
                   lpad(seq::text, greatest(6, length(seq::text)), '0'))
                   OR series <> CASE kind WHEN 'invoice' THEN 'INV' ELSE 'CN' END
                   OR year <> extract(year FROM issued_at AT TIME ZONE 'UTC')) AS misspelled,
               array_agg(number ORDER BY seq) FILTER (WHERE issued_at < before) AS early
        FROM d GROUP BY series, year)
    SELECT series, year, coalesce(n, 0) AS n, low, high, last,
           coalesce(misspelled, '{{}}') AS misspelled, coalesce(early, '{{}}') AS early
    FROM g FULL JOIN document_counters USING (series, year)
    WHERE ({ids} IS NULL
           OR (series, year) IN (SELECT series, year FROM documents WHERE order_id = ANY({ids})))
    ORDER BY series, year""")


@dataclass(frozen=True)
class _Series:
    series: str
    year: int
    n: int
    low: int | None
    high: int | None
    last: int | None  # the counter; None: there is none
    misspelled: list[str]
    early: list[str]

    def gaps(self) -> list[str]:
        """Numbers 1 to n without a gap, each spelled right, issued in order, counted."""
        return [
            f"{self.n} documents numbered {self.low} to {self.high}"
            if self.n and (self.low, self.high) != (1, self.n)
            else "",
            "no counter" if self.last is None else "",
            f"the counter at {self.last}, the highest number {self.high or 0}"
            if self.last is not None and self.last != (self.high or 0)
            else "",
            f"{', '.join(self.misspelled)} not spelled from its kind, seq and year of issue"
            if self.misspelled
            else "",
            f"{', '.join(self.early)} issued before the number preceding it" if self.early else "",
        ]


async def _numbering(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    for row in await session.execute(_NUMBERING, {"ids": ids}):
        series = _Series(**row._mapping)
        if gaps := [gap for gap in series.gaps() if gap]:
            subject = f"{series.series}-{series.year}"
            message = f"documents {subject}: {', '.join(gaps)}"
            kind = Invariant.DOCUMENT_NUMBERING
            found.append(Violation(kind=kind, subject=subject, message=message))
    return found


# Entries whose debits and credits differ, or with fewer than two lines (even an empty entry
# "balances"); scoped to orders, also their customers' entries of no order (goodwill).
_JOURNAL = scoped_sql("""
    SELECT e.id, e.kind, count(l.id) AS lines, coalesce(sum(l.debit), 0) AS debit,
           coalesce(sum(l.credit), 0) AS credit
    FROM (SELECT *, order_id AS c FROM journal_entries) AS e
    LEFT JOIN journal_lines AS l ON l.entry_id = e.id
    WHERE {orders} OR (c IS NULL AND customer_id IN (
        SELECT customer_id FROM orders WHERE id = ANY({ids})))
    GROUP BY e.id, e.kind HAVING count(l.id) < 2 OR sum(l.debit) <> sum(l.credit)
    ORDER BY e.id""")


async def _journal(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_JOURNAL, {"ids": ids})
    return [
        Violation(
            kind=Invariant.JOURNAL_UNBALANCED,
            subject=str(r.id),
            message=f"journal entry {r.id} ({r.kind}): {r.lines} lines, "
            f"debits {r.debit}, credits {r.credit}",
        )
        for r in rows
    ]


LEDGER_CHECKS: tuple[Check, ...] = (_store_credit, _numbering, _journal)
