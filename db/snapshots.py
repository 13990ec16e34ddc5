"""Rows as an event's `data` carries them: JSON-ready snapshots of the resource after the change,
so that a subscriber never has to call back. Money is minor units with its currency, times ISO 8601.
"""

from datetime import UTC, datetime
from typing import Any

from db.models import (
    DocumentRecord,
    OrderRecord,
    PaymentRecord,
    RefundRecord,
    ReturnRecord,
    StoreCreditAccountRecord,
)

Json = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the microsecond, as the database's snapshot functions write times."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def order(record: OrderRecord) -> Json:
    """An order, its lines and shipments loaded. The events of an order take it from the
    database's `order_snapshot` (migration 0007) in the statement that writes them; a test keeps
    the two equal (this one makes the README's examples)."""
    return {
        "id": record.id,
        "channel": record.channel,
        "status": record.status,
        "status_reason": record.status_reason,
        "customer": {
            "id": record.customer_id,
            "email": record.customer_email,
            "name": record.customer_name,
        },
        "shipping_address": record.shipping_address,
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in record.lines
        ],
        "currency": record.currency,
        "total": record.total,
        "store_credit": record.store_credit,
        "shipments": [
            {
                "id": shipment.id,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "status": shipment.status,
            }
            for shipment in sorted(record.shipments, key=lambda shipment: shipment.id)
        ],
        "exchange_for": record.exchange_for,
        "placed_by_return": record.placed_by_return,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def payment(record: PaymentRecord) -> Json:
    return {
        "order_id": record.order_id,
        "status": record.status,
        "currency": record.currency,
        "authorized": record.authorized,
        "captured": record.captured,
        "refunded": record.refunded,
        "store_credit": record.store_credit,
        "updated_at": iso(record.updated_at),
    }


def refund(record: RefundRecord) -> Json:
    return {
        "id": record.id,
        "order_id": record.order_id,
        "status": record.status,
        "amount": record.amount,
        "currency": record.currency,
        "method": record.method,
        "reason": record.reason,
        "lines": record.lines,
        "failure_reason": record.failure_reason,
        "credit_note": record.credit_note,
        "return_id": record.return_id,
        "created_at": iso(record.created_at),
        "completed_at": iso(record.completed_at),
    }


def document(record: DocumentRecord) -> Json:
    """An invoice or credit note, its totals and lines (the PDF: GET /v1/invoices/{number}/pdf)."""
    return {
        "number": record.number,
        "kind": record.kind,
        "order_id": record.order_id,
        "refund_id": record.refund_id,
        "refers_to": record.refers_to,
        "issued_at": iso(record.issued_at),
        "currency": record.currency,
        "lines": record.lines,
        "tax_breakdown": record.tax_breakdown,
        "net_total": record.net_total,
        "tax_total": record.tax_total,
        "total": record.total,
        "paid_card": record.paid_card,
        "paid_store_credit": record.paid_store_credit,
    }


def store_credit(account: StoreCreditAccountRecord) -> Json:
    return {
        "customer_id": account.customer_id,
        "currency": account.currency,
        "balance": account.balance,
        "updated_at": iso(account.updated_at),
    }


def return_(record: ReturnRecord) -> Json:
    """A return or claim; its lines must be loaded."""
    label = None
    if record.label_tracking_number is not None:
        label = {"carrier": record.label_carrier, "tracking_number": record.label_tracking_number}
    return {
        "id": record.id,
        "kind": record.kind,
        "order_id": record.order_id,
        "customer_id": record.customer_id,
        "channel": record.channel,
        "status": record.status,
        "resolution": record.resolution,
        "claim_type": record.claim_type,
        "advance": record.advance,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "reason": line.reason,
                "resellable": line.resellable,
                "damaged": line.damaged,
            }
            for line in record.lines
        ],
        "exchange_lines": record.exchange_lines,
        "exchange_order_id": record.exchange_order_id,
        "label": label,
        "receive_by": iso(record.receive_by),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }
