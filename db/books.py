"""The money facts, each written whole in one PostgreSQL transaction with its journal entry.

A hold of store credit, its release or redemption, an invoice, a refund's outcome, a goodwill
credit: the ledger rows, the document and the balanced booking commit together or not at all,
and each is keyed by the fact it records (`{order_id}:…`, `{refund_id}:…`), so the activity that
writes it can be retried after any crash.
"""

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from db import documents, events, journal, payments, snapshots, store_credit
from db.models import DocumentRecord, OrderRecord, RefundRecord, StoreCreditEntryRecord
from db.store_credit import CreditEntry, CreditKind
from integration.catalog import EventType
from money import journal as book
from money.documents import breakdown_from_json
from settings import Settings
from workflows.money_contracts import RefundMethod, RefundStatus


def chart(settings: Settings) -> book.Chart:
    """The configured chart, built (and checked) once per configuration, not per booking."""
    return _chart(tuple(sorted(settings.chart_of_accounts.items())))


@lru_cache(maxsize=8)
def _chart(overrides: tuple[tuple[str, str], ...]) -> book.Chart:
    return book.Chart(dict(overrides))


async def hold_credit(
    session: AsyncSession, order: OrderRecord, amount: int, settings: Settings
) -> None:
    """The order holds `amount` of its customer's credit; InsufficientCredit if it is not
    there any more."""
    key = f"{order.id}:store_credit:hold"
    entry = CreditEntry(
        customer_id=order.customer_id,
        currency=order.currency,
        kind=CreditKind.HELD,
        amount=amount,
        key=key,
        reason=f"held by order {order.id}",
        actor="workflow",
        order_id=order.id,
    )
    await store_credit.append(session, entry)
    booking = book.credit_hold(chart(settings), order.id, amount)
    await _post(session, booking, order, key)


async def release_credit(session: AsyncSession, order: OrderRecord, settings: Settings) -> None:
    """The order stopped: whatever it still holds comes back to the balance."""
    held = await store_credit.held_by(session, order.id)
    if held <= 0:
        return
    key = f"{order.id}:store_credit:release"
    await store_credit.append(session, _order_entry(order, CreditKind.RELEASED, held, key))
    await _post(session, book.credit_release(chart(settings), order.id, held), order, key)


async def invoice_order(
    session: AsyncSession, order: OrderRecord, settings: Settings
) -> DocumentRecord:
    """At capture: redeem the held credit and issue the invoice, with their bookings (the same
    invoice on a retry). The order's lines must be loaded."""
    if (issued := await documents.invoice_of(session, order.id)) is not None:
        return issued
    payment = await payments.locked(session, order.id)
    captured = 0 if payment is None else payment.captured
    held = await store_credit.held_by(session, order.id)
    if held > 0:
        key = f"{order.id}:store_credit:redeem"
        await store_credit.append(session, _order_entry(order, CreditKind.REDEEMED, held, key))
        await _post(session, book.credit_redemption(chart(settings), order.id, held), order, key)
    invoice = await documents.issue_invoice(session, order, settings, captured, max(held, 0))
    await _post(session, book.invoice(chart(settings), invoice.number, _rates(invoice)), order,
                f"{order.id}:invoice", document=invoice.number)  # fmt: skip
    if captured > 0:
        booking = book.card_capture(chart(settings), order.id, captured)
        await _post(session, booking, order, f"{order.id}:capture")
    elif payment is not None and payments.mark_captured_by_credit(payment):
        await payments.captured(session, payment)
    return invoice


async def complete_refund(
    session: AsyncSession, refund: RefundRecord, order: OrderRecord, settings: Settings
) -> str:
    """The refund's money went back (to the card, recorded by its transaction, or as credit):
    issue its credit note, book it, and mark it succeeded. Returns the credit note's number."""
    if refund.status == RefundStatus.SUCCEEDED and refund.credit_note is not None:
        return refund.credit_note
    payment = await payments.locked(session, order.id)  # serializes with claims on this order
    invoice = await documents.invoice_of(session, order.id)
    if payment is None or invoice is None:
        raise RuntimeError(f"refund {refund.id}: order {order.id} has no payment or invoice")
    note = await documents.issue_credit_note(session, order, refund, invoice, settings)
    accounts = chart(settings)
    await _post(session, book.credit_note(accounts, note.number, _rates(note)), order,
                f"{refund.id}:credit_note", refund=refund, document=note.number)  # fmt: skip
    if refund.method == RefundMethod.STORE_CREDIT:
        key = f"{refund.id}:store_credit"
        entry = _order_entry(order, CreditKind.ISSUED, refund.amount, key, refund.id)
        await store_credit.append(session, entry)
        booking = book.refund_to_store_credit(accounts, refund.id, refund.amount)
    else:
        booking = book.card_refund(accounts, refund.id, refund.amount)
    await _post(session, booking, order, f"{refund.id}:payout", refund=refund)
    payments.add_refunded(payment, refund.amount)
    refund.status, refund.credit_note = RefundStatus.SUCCEEDED.value, note.number
    refund.completed_at = datetime.now(UTC)
    await _refund_event(session, EventType.REFUND_SUCCEEDED, refund)
    return note.number


async def fail_refund(session: AsyncSession, refund: RefundRecord, reason: str) -> None:
    """The gateway refused: the refund ends failed and its claim no longer counts."""
    if refund.status == RefundStatus.PENDING:
        refund.status, refund.failure_reason = RefundStatus.FAILED.value, reason
        refund.completed_at = datetime.now(UTC)
        await _refund_event(session, EventType.REFUND_FAILED, refund)


async def _refund_event(session: AsyncSession, event: EventType, refund: RefundRecord) -> None:
    await session.flush()
    await events.emit(session, event, refund.id, {"refund": snapshots.refund(refund)})


async def grant_goodwill(
    session: AsyncSession,
    entry: CreditEntry,
    settings: Settings,
) -> StoreCreditEntryRecord:
    """Credit given as goodwill (no order, no document): an expense against the liability."""
    record = await store_credit.append(session, entry)
    booking = book.goodwill_credit(chart(settings), entry.customer_id, entry.amount)
    await journal.post(
        session,
        booking,
        currency=entry.currency,
        key=f"{entry.key}:journal",
        at=record.at,
        customer_id=entry.customer_id,
    )
    return record


def _order_entry(
    order: OrderRecord, kind: CreditKind, amount: int, key: str, refund_id: str | None = None
) -> CreditEntry:
    why = {
        CreditKind.RELEASED: f"released: order {order.id} stopped",
        CreditKind.REDEEMED: f"paid order {order.id}",
        CreditKind.ISSUED: f"refund {refund_id} of order {order.id}",
    }
    return CreditEntry(
        customer_id=order.customer_id,
        currency=order.currency,
        kind=kind,
        amount=amount,
        key=key,
        reason=why.get(kind, kind.value),
        actor="workflow",
        order_id=order.id,
        refund_id=refund_id,
    )


def _rates(document: DocumentRecord) -> list[tuple[Decimal, int, int]]:
    return [(t.rate, t.net, t.tax) for t in breakdown_from_json(document.tax_breakdown)]


async def _post(
    session: AsyncSession,
    booking: book.Booking,
    order: OrderRecord,
    key: str,
    refund: RefundRecord | None = None,
    document: str | None = None,
) -> None:
    if not booking.postings:  # nothing moved (a zero-priced order): nothing to book
        return
    await journal.post(
        session,
        booking,
        currency=order.currency,
        key=f"{key}:journal",
        at=datetime.now(UTC),
        order_id=order.id,
        refund_id=None if refund is None else refund.id,
        document=document,
        customer_id=order.customer_id,
    )
