"""The money invariants of an order: its books against its documents, its payment row against
its ledgers, its refunds against what was paid, its credit notes, the credit it holds.

Only orders with a `payments` row are checked: orders placed before migration 0005 have no money
in the OMS's books. db/invariants.py runs these with the others; db/ledger_invariants.py holds
the ledger-wide ones (store credit balances, document numbers, the journal).
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.violations import Check, Invariant, Violation, scoped_sql

TERMINAL = ("completed", "cancelled", "failed")

# Per order with a payment: what its ledgers, refunds and documents add up to. Everything is
# summed from the append-only rows, so a wrong `payments` row is reported once, as itself.
_MONEY = scoped_sql("""
    WITH tx AS (SELECT order_id AS c, sum(amount) AS captured FROM payment_transactions
                WHERE kind = 'capture' AND outcome = 'succeeded' GROUP BY c),
    rf AS (SELECT order_id AS c, sum(amount) FILTER (WHERE status = 'succeeded') AS refunded,
                  sum(amount) FILTER (WHERE status <> 'failed') AS claimed,
                  sum(amount) FILTER (WHERE status <> 'failed'
                                        AND method = 'original_payment') AS card_claimed
           FROM refunds GROUP BY c),
    sc AS (SELECT order_id AS c, sum(amount) FILTER (WHERE kind = 'held') AS held,
                  sum(amount) FILTER (WHERE kind = 'released') AS released,
                  sum(amount) FILTER (WHERE kind = 'redeemed') AS redeemed
           FROM store_credit_entries WHERE order_id IS NOT NULL GROUP BY c),
    doc AS (SELECT order_id AS c, count(*) FILTER (WHERE kind = 'invoice') AS invoices,
                   sum(total) FILTER (WHERE kind = 'invoice') AS invoiced,
                   sum(paid_card) FILTER (WHERE kind = 'invoice') AS invoice_card,
                   sum(paid_store_credit) FILTER (WHERE kind = 'invoice') AS invoice_credit,
                   sum(total) FILTER (WHERE kind = 'credit_note') AS credited
            FROM documents GROUP BY c)
    SELECT c AS id, status, total, store_credit, booked_captured, booked_refunded,
           booked_credit, coalesce(captured, 0) AS captured, coalesce(refunded, 0) AS refunded,
           coalesce(claimed, 0) AS claimed, coalesce(card_claimed, 0) AS card_claimed,
           coalesce(held, 0) AS held, coalesce(released, 0) AS released,
           coalesce(redeemed, 0) AS redeemed, coalesce(invoices, 0) AS invoices,
           coalesce(invoiced, 0) AS invoiced, invoice_card, invoice_credit,
           coalesce(credited, 0) AS credited
    FROM (SELECT order_id AS c, captured AS booked_captured, refunded AS booked_refunded,
                 store_credit AS booked_credit FROM payments) AS p
    JOIN (SELECT id AS c, status, total, store_credit FROM orders) AS o USING (c)
    LEFT JOIN tx USING (c) LEFT JOIN rf USING (c) LEFT JOIN sc USING (c) LEFT JOIN doc USING (c)
    WHERE {orders} ORDER BY c""")


@dataclass(frozen=True)
class _Money:
    """One order as `_MONEY` sees it."""

    id: str
    status: str
    total: int
    store_credit: int
    booked_captured: int
    booked_refunded: int
    booked_credit: int
    captured: int
    refunded: int
    claimed: int
    card_claimed: int
    held: int
    released: int
    redeemed: int
    invoices: int
    invoiced: int
    invoice_card: int | None
    invoice_credit: int | None
    credited: int


def _books_gaps(m: _Money) -> list[str]:
    """Money kept (card captured + credit spent − refunded) against documents (invoiced −
    credited), and the invoice against the order it bills and the money that paid it."""
    kept, documented = m.captured + m.redeemed - m.refunded, m.invoiced - m.credited
    gaps = [
        f"captured {m.captured} + credit redeemed {m.redeemed} − refunded {m.refunded} = {kept}, "
        f"invoiced {m.invoiced} − credited {m.credited} = {documented}"
        if kept != documented
        else "",
        "completed without an invoice" if m.status == "completed" and not m.invoices else "",
    ]
    if m.invoices:
        credit = (m.invoice_credit, m.redeemed, m.store_credit)
        gaps += [
            f"invoiced {m.invoiced} of a {m.total} total" if m.invoiced != m.total else "",
            f"invoice paid by card {m.invoice_card}, {m.captured} captured"
            if m.invoice_card != m.captured
            else "",
            f"invoice paid by credit {m.invoice_credit}, {m.redeemed} redeemed of the "
            f"{m.store_credit} the order was to pay with credit"
            if len(set(credit)) > 1
            else "",
        ]
    return gaps


def _ledger_gaps(m: _Money) -> list[str]:
    """The `payments` row against the rows it summarizes."""
    return [
        f"payments.captured {m.booked_captured}, {m.captured} in succeeded captures"
        if m.booked_captured != m.captured
        else "",
        f"payments.refunded {m.booked_refunded}, {m.refunded} in succeeded refunds"
        if m.booked_refunded != m.refunded
        else "",
        f"payments.store_credit {m.booked_credit}, the order's {m.store_credit}"
        if m.booked_credit != m.store_credit
        else "",
    ]


def _claim_gaps(m: _Money) -> list[str]:
    """Pending and succeeded refunds against what was paid; to the card, against the card."""
    paid = m.captured + m.redeemed
    return [
        f"refunds of {m.claimed} claimed, {paid} paid ({m.captured} card, {m.redeemed} credit)"
        if m.claimed > paid
        else "",
        f"card refunds of {m.card_claimed} claimed, {m.captured} captured from the card"
        if m.card_claimed > m.captured
        else "",
    ]


def _held_gaps(m: _Money) -> list[str]:
    """Credit the order holds now: never below zero, and none once it has finished."""
    holds = m.held - m.released - m.redeemed
    sums = f"held {m.held}, released {m.released}, redeemed {m.redeemed}"
    return [
        f"holds {holds} store credit ({sums})" if holds < 0 else "",
        f"{m.status} but still holds {holds} store credit ({sums})"
        if holds > 0 and m.status in TERMINAL
        else "",
    ]


_PER_ORDER = (
    (Invariant.BOOKS_MISMATCH, _books_gaps),
    (Invariant.PAYMENT_LEDGER_MISMATCH, _ledger_gaps),
    (Invariant.REFUND_BEYOND_CAPTURE, _claim_gaps),
    (Invariant.CREDIT_HELD_BY_TERMINAL_ORDER, _held_gaps),
)


async def _order_money(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    for row in await session.execute(_MONEY, {"ids": ids}):
        money = _Money(**row._mapping)
        for kind, gaps_of in _PER_ORDER:
            if gaps := [gap for gap in gaps_of(money) if gap]:
                message = f"order {money.id}: {', '.join(gaps)}"
                found.append(Violation(kind=kind, subject=money.id, message=message))
    return found


# Per refund, and per payout made for one (a card refund transaction, credit issued for a
# refund): the money that went out for it. A pending refund may already be paid (the card's
# payout is written before the refund completes); a succeeded one was paid, by its method; a
# failed one was not. A payout naming no refund of its order shows with `refund_id` NULL.
_PAYOUTS = scoped_sql("""
    WITH payout AS (
        SELECT order_id, refund_id, amount, 'original_payment' AS via FROM payment_transactions
        WHERE kind = 'refund' AND outcome = 'succeeded'
        UNION ALL
        SELECT order_id, refund_id, amount, 'store_credit' FROM store_credit_entries
        WHERE kind = 'issued' AND order_id IS NOT NULL),
    paid AS (SELECT order_id, refund_id,
                    sum(amount) FILTER (WHERE via = 'original_payment') AS card,
                    sum(amount) FILTER (WHERE via = 'store_credit') AS credit
             FROM payout GROUP BY order_id, refund_id),
    each AS (SELECT coalesce(r.order_id, p.order_id) AS c, r.id AS refund_id,
                    p.refund_id AS paid_for, r.status, r.amount, r.method,
                    coalesce(p.card, 0) AS card, coalesce(p.credit, 0) AS credit
             FROM refunds AS r
             FULL JOIN paid AS p ON p.refund_id = r.id AND p.order_id = r.order_id)
    SELECT c AS order_id, refund_id, paid_for, status, amount, method, card, credit FROM each
    WHERE c IN (SELECT order_id FROM payments) AND {orders} AND NOT (
        refund_id IS NOT NULL
        AND CASE method WHEN 'original_payment' THEN credit ELSE card END = 0
        AND CASE status WHEN 'succeeded' THEN greatest(card, credit) = amount
                        WHEN 'failed' THEN greatest(card, credit) = 0
                        ELSE greatest(card, credit) IN (0, amount) END)
    ORDER BY c, refund_id""")


@dataclass(frozen=True)
class _Payout:
    """A refund and what was paid out for it, as `_PAYOUTS` sees them."""

    order_id: str
    refund_id: str | None  # None: a payout for no refund of the order
    paid_for: str | None
    status: str | None
    amount: int | None
    method: str | None
    card: int
    credit: int

    def __str__(self) -> str:
        paid = f"{self.card} paid to the card, {self.credit} as store credit"
        if self.refund_id is None:
            unknown = "no refund" if self.paid_for is None else f"{self.paid_for}, no refund of it"
            return f"order {self.order_id}: {paid} for {unknown}"
        refund = f"{self.status} refund {self.refund_id} of {self.amount} by {self.method}"
        return f"order {self.order_id}: {refund}, {paid}"


async def _payouts(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    rows = await session.execute(_PAYOUTS, {"ids": ids})
    payouts = [_Payout(**row._mapping) for row in rows]
    return [
        Violation(kind=Invariant.PAYMENT_LEDGER_MISMATCH, subject=p.order_id, message=str(p))
        for p in payouts
    ]


# Per refund and per credit note, matched by the note's refund_id (unique), with the invoice of
# the order: a credit note with no refund behind it shows with `refund_id` NULL.
_CREDIT_NOTES = scoped_sql("""
    WITH note AS (SELECT number, order_id, refund_id, refers_to, total FROM documents
                  WHERE kind = 'credit_note'),
    invoice AS (SELECT order_id AS c, number AS invoice FROM documents WHERE kind = 'invoice'),
    each AS (SELECT coalesce(r.order_id, n.order_id) AS c, r.id AS refund_id, r.status,
                    r.amount, r.credit_note AS named, n.number, n.order_id AS note_order,
                    n.refers_to, n.total AS note_total
             FROM refunds AS r FULL JOIN note AS n ON n.refund_id = r.id)
    SELECT c AS order_id, refund_id, status, amount, named, number, note_order, refers_to,
           note_total, invoice
    FROM each LEFT JOIN invoice USING (c)
    WHERE c IN (SELECT order_id FROM payments) AND {orders} ORDER BY c, refund_id""")


@dataclass(frozen=True)
class _Note:
    """A refund and its credit note, as `_CREDIT_NOTES` sees them."""

    order_id: str
    refund_id: str | None
    status: str | None
    amount: int | None
    named: str | None  # refunds.credit_note
    number: str | None  # the credit note issued for the refund
    note_order: str | None
    refers_to: str | None
    note_total: int | None
    invoice: str | None

    def gaps(self) -> list[str]:
        """A succeeded refund has its note, named, for its order, amount and invoice; a
        pending or failed one has none."""
        if self.refund_id is None:
            return [f"credit note {self.number} is for no refund of the order"]
        refund = f"{self.status} refund {self.refund_id}"
        if self.status != "succeeded":
            return [
                f"{refund} has credit note {self.number}" if self.number else "",
                f"{refund} names credit note {self.named}" if self.named else "",
            ]
        if self.number is None:
            return [f"{refund} has no credit note"]
        return [
            f"{refund} names {self.named or 'no credit note'}, its note is {self.number}"
            if self.named != self.number
            else "",
            f"{refund}'s note is for order {self.note_order}"
            if self.note_order != self.order_id
            else "",
            f"{refund} of {self.amount} has a note of {self.note_total}"
            if self.note_total != self.amount
            else "",
            f"{refund}'s note refers to {self.refers_to}, the invoice is {self.invoice}"
            if self.refers_to != self.invoice
            else "",
        ]


async def _credit_notes(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
    found: list[Violation] = []
    for row in await session.execute(_CREDIT_NOTES, {"ids": ids}):
        note = _Note(**row._mapping)
        if gaps := [gap for gap in note.gaps() if gap]:
            message = f"order {note.order_id}: {', '.join(gaps)}"
            kind = Invariant.CREDIT_NOTE_MISMATCH
            found.append(Violation(kind=kind, subject=note.order_id, message=message))
    return found


MONEY_CHECKS: tuple[Check, ...] = (_order_money, _payouts, _credit_notes)
