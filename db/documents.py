"""Invoices and credit notes: numbered gap-free per series and year, immutable once issued.

The next number comes from `document_counters`, incremented under its row lock in the
transaction that inserts the document: a rollback gives the number back, so the series has no
gaps (a PostgreSQL sequence would leave one per rolled-back transaction), and a second issuer
waits for the first to commit, so numbers increase in the order documents were issued.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db import customers, events, snapshots
from db.models import DocumentRecord, OrderRecord, RefundRecord, TaxRateRecord
from integration.catalog import EventType
from money.documents import (
    SERIES,
    Document,
    DocumentKind,
    DocumentLine,
    Draft,
    Party,
    PricedLine,
    TaxLine,
    breakdown_from_json,
    breakdown_json,
    document_number,
    draft,
    goodwill_draft,
    lines_from_json,
    lines_json,
)
from settings import Settings

ZERO = Decimal(0)  # a country without a rate in the table (an export): zero-rated

_NEXT = text("""
    INSERT INTO document_counters AS c (series, year, last) VALUES (:series, :year, 1)
    ON CONFLICT (series, year) DO UPDATE SET last = c.last + 1
    RETURNING last""")


async def standard_rate(session: AsyncSession, country: str) -> Decimal:
    """The country's standard rate in the table; 0 for one not in it (an export)."""
    query = select(TaxRateRecord.rate).where(TaxRateRecord.country == country)
    rate: Decimal | None = await session.scalar(query)
    return ZERO if rate is None else rate


async def invoice_of(session: AsyncSession, order_id: str) -> DocumentRecord | None:
    query = select(DocumentRecord).where(
        DocumentRecord.order_id == order_id, DocumentRecord.kind == DocumentKind.INVOICE.value
    )
    found: DocumentRecord | None = await session.scalar(query)
    return found


async def get(session: AsyncSession, number: str) -> DocumentRecord | None:
    return await session.get(DocumentRecord, number)


async def of_order(session: AsyncSession, order_id: str) -> Sequence[DocumentRecord]:
    query = (
        select(DocumentRecord)
        .where(DocumentRecord.order_id == order_id)
        .order_by(DocumentRecord.issued_at, DocumentRecord.number)
    )
    return (await session.scalars(query)).all()


async def issue_invoice(
    session: AsyncSession, order: OrderRecord, settings: Settings, paid_card: int, paid_credit: int
) -> DocumentRecord:
    """The order's invoice for its lines now (loaded), at each line's or its country's rate."""
    standard = await standard_rate(session, order.shipping_address["country"])
    priced = [
        PricedLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=standard if line.tax_rate is None else line.tax_rate,
        )
        for line in order.lines
    ]
    return await _issue(
        session, DocumentKind.INVOICE, draft(priced), order, settings, paid_card, paid_credit
    )


async def issue_credit_note(
    session: AsyncSession,
    order: OrderRecord,
    refund: RefundRecord,
    invoice: DocumentRecord,
    settings: Settings,
) -> DocumentRecord:
    """The credit note of a succeeded refund: its units at the invoice's lines, or its sum
    spread over the invoice's rates (goodwill)."""
    if refund.lines:
        invoiced = {line.sku: line for line in lines_from_json(invoice.lines)}
        priced = [_refunded_line(invoiced[item["sku"]], item["quantity"]) for item in refund.lines]
        contents = draft(priced)
    else:
        contents = goodwill_draft(refund.amount, breakdown_from_json(invoice.tax_breakdown))
    card = refund.amount if refund.method == "original_payment" else 0
    note = await _issue(
        session,
        DocumentKind.CREDIT_NOTE,
        contents,
        order,
        settings,
        card,
        refund.amount - card,
        refund_id=refund.id,
        refers_to=invoice.number,
    )
    return note


def _refunded_line(invoiced: DocumentLine, quantity: int) -> PricedLine:
    return PricedLine(
        sku=invoiced.sku,
        quantity=quantity,
        unit_price=invoiced.unit_price,
        tax_rate=invoiced.tax_rate,
    )


async def _issue(
    session: AsyncSession,
    kind: DocumentKind,
    contents: Draft,
    order: OrderRecord,
    settings: Settings,
    paid_card: int,
    paid_credit: int,
    refund_id: str | None = None,
    refers_to: str | None = None,
) -> DocumentRecord:
    series, year = SERIES[kind], datetime.now(UTC).year
    seq = int((await session.execute(_NEXT, {"series": series, "year": year})).scalar_one())
    issued_at = datetime.now(UTC)  # after the counter's lock: later than the previous number's
    if issued_at.year != year:  # the year turned while waiting for the lock
        issued_at = datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    record = DocumentRecord(
        number=document_number(kind, year, seq),
        kind=kind.value,
        series=series,
        year=year,
        seq=seq,
        order_id=order.id,
        refund_id=refund_id,
        refers_to=refers_to,
        issued_at=issued_at,
        currency=order.currency,
        seller=_party_json(seller(settings)),
        buyer=_party_json(buyer(order)),
        lines=lines_json(contents.lines),
        tax_breakdown=breakdown_json(contents.tax_breakdown),
        net_total=contents.net_total,
        tax_total=contents.tax_total,
        total=contents.total,
        paid_card=paid_card,
        paid_store_credit=paid_credit,
    )
    session.add(record)
    await session.flush()
    await _announce(session, record, order.customer_id)
    return record


async def _announce(session: AsyncSession, document: DocumentRecord, customer_id: str) -> None:
    """`invoice.issued` or `credit_note.issued`, and the customer's spend with it."""
    invoice = document.kind == DocumentKind.INVOICE
    issued = EventType.INVOICE_ISSUED if invoice else EventType.CREDIT_NOTE_ISSUED
    await events.emit(session, issued, document.number, {"document": snapshots.document(document)})
    amount = {"invoiced" if invoice else "credited": document.total}
    await customers.spent(session, customer_id, document.currency, **amount)


def seller(settings: Settings) -> Party:
    return Party(
        name=settings.seller_name,
        street=settings.seller_street,
        postal_code=settings.seller_postal_code,
        city=settings.seller_city,
        country=settings.seller_country,
        vat_id=settings.seller_vat_id,
        email=settings.seller_email,
    )


def buyer(order: OrderRecord) -> Party:
    address = order.shipping_address
    street = ", ".join(part for part in (address["line1"], address.get("line2")) if part)
    return Party(
        name=order.customer_name,
        street=street,
        postal_code=address["postal_code"],
        city=address["city"],
        country=address["country"],
        email=order.customer_email,
    )


def _party_json(party: Party) -> dict[str, str | None]:
    return {
        "name": party.name,
        "street": party.street,
        "postal_code": party.postal_code,
        "city": party.city,
        "country": party.country,
        "vat_id": party.vat_id,
        "email": party.email,
    }


def _party(stored: dict[str, str | None]) -> Party:
    return Party(
        name=stored["name"] or "",
        street=stored["street"] or "",
        postal_code=stored["postal_code"] or "",
        city=stored["city"] or "",
        country=stored["country"] or "",
        vat_id=stored.get("vat_id"),
        email=stored.get("email"),
    )


def to_document(record: DocumentRecord) -> Document:
    """An issued document as the PDF and the XML are built from it."""
    breakdown: list[TaxLine] = breakdown_from_json(record.tax_breakdown)
    return Document(
        number=record.number,
        kind=DocumentKind(record.kind),
        order_id=record.order_id,
        refers_to=record.refers_to,
        issued_at=record.issued_at,
        currency=record.currency,
        seller=_party(record.seller),
        buyer=_party(record.buyer),
        lines=lines_from_json(record.lines),
        tax_breakdown=breakdown,
        net_total=record.net_total,
        tax_total=record.tax_total,
        total=record.total,
        paid_card=record.paid_card,
        paid_store_credit=record.paid_store_credit,
    )
