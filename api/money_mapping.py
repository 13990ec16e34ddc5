"""Money rows → HTTP models (refunds, store credit entries, documents, tax rates), each field
named on both sides, as api/mapping.py does for orders."""

from typing import Any

from api import money_schemas as http
from db.models import DocumentRecord, RefundRecord, StoreCreditEntryRecord, TaxRateRecord
from money.tax import rate_text


def to_refund_public(refund: RefundRecord) -> http.RefundPublic:
    return http.RefundPublic.model_validate(
        {
            "id": refund.id,
            "order_id": refund.order_id,
            "status": refund.status,
            "amount": refund.amount,
            "currency": refund.currency,
            "method": refund.method,
            "reason": refund.reason,
            "lines": refund.lines,
            "failure_reason": refund.failure_reason,
            "credit_note": refund.credit_note,
            "created_at": refund.created_at,
            "completed_at": refund.completed_at,
        }
    )


def to_entry_public(entry: StoreCreditEntryRecord) -> http.StoreCreditEntryPublic:
    return http.StoreCreditEntryPublic.model_validate(
        {
            "id": entry.id,
            "at": entry.at,
            "kind": entry.kind,
            "currency": entry.currency,
            "amount": entry.amount,
            "delta": entry.delta,
            "order_id": entry.order_id,
            "refund_id": entry.refund_id,
            "reason": entry.reason,
            "actor": entry.actor,
        }
    )


def to_invoice_public(document: DocumentRecord) -> http.InvoicePublic:
    """An issued document as stored: its JSON columns are already the HTTP shapes."""
    fields: dict[str, Any] = {
        "number": document.number,
        "kind": document.kind,
        "order_id": document.order_id,
        "refers_to": document.refers_to,
        "issued_at": document.issued_at,
        "currency": document.currency,
        "seller": document.seller,
        "buyer": document.buyer,
        "lines": document.lines,
        "tax_breakdown": document.tax_breakdown,
        "net_total": document.net_total,
        "tax_total": document.tax_total,
        "total": document.total,
        "paid": {"card": document.paid_card, "store_credit": document.paid_store_credit},
    }
    return http.InvoicePublic.model_validate(fields)


def to_tax_rate_public(rate: TaxRateRecord) -> http.TaxRatePublic:
    return http.TaxRatePublic(
        country=rate.country, rate=rate_text(rate.rate), updated_at=rate.updated_at
    )
