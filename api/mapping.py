"""The API's edge: HTTP models ↔ database rows, and HTTP requests → Temporal payloads.

api/schemas.py, db/models.py and workflows/contracts.py never import each other; every crossing
is a function here (rows ↔ payloads: db/mapping.py), naming each field on both sides, so a field
one family gains is mapped on purpose or not at all.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from api import schemas as http
from db.keys import ApiKeyRecord
from db.mapping import to_address_json
from db.models import (
    AuditRecord,
    HistoryRecord,
    InventoryRecord,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    ReturnRecord,
    ShipmentRecord,
)
from db.payments import new_payment
from money.tax import parse_rate, rate_text
from workflows import contracts as c
from workflows.contracts import OrderStatus
from workflows.return_contracts import ReturnKind
from workflows.rules import order_total


def request_hash(body: http.OrderCreate) -> str:
    """sha256 of the canonical body: same meaning, same hash, whatever the key order or spacing."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# HTTP → rows


def to_order_record(
    body: http.OrderCreate, idempotency_key: str | None, channel: str, actor: str
) -> OrderRecord:
    """A new `pending` order (version 0) of `channel` with its lines and the history row seq 0,
    placed by `actor` (the caller)."""
    order_id, now = str(uuid4()), datetime.now(UTC)
    lines = [
        OrderLineRecord(
            line_no=no,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=None if line.tax_rate is None else parse_rate(line.tax_rate),
        )
        for no, line in enumerate(body.lines)
    ]
    store_credit = body.payment.store_credit or 0
    return OrderRecord(
        id=order_id,
        customer_id=body.customer.id,
        customer_email=body.customer.email,
        customer_name=body.customer.name,
        shipping_address=to_address_json(body.shipping_address),
        currency=body.currency,
        total=order_total(body.lines),
        payment_token=body.payment.token or "",
        store_credit=store_credit,
        status=OrderStatus.PENDING.value,
        channel=channel,
        idempotency_key=idempotency_key,
        request_hash=request_hash(body),
        version=0,
        created_at=now,
        updated_at=now,
        lines=lines,
        history=[HistoryRecord(seq=0, status=OrderStatus.PENDING.value, actor=actor, at=now)],
        shipments=[],
        payment=new_payment(order_id, body.currency, store_credit),
        documents=[],
        refunds=[],
        returns=[],
    )


# Rows → HTTP


def to_order_public(order: OrderRecord) -> http.OrderPublic:
    """The HTTP view of a stored order (its relationships must be loaded, returns with their
    lines: db/orders.py loads them all)."""
    returned = _returned_units(order)
    return http.OrderPublic(
        id=order.id,
        status=OrderStatus(order.status),
        status_reason=order.status_reason,
        channel=order.channel,
        customer=http.Customer(
            id=order.customer_id, email=order.customer_email, name=order.customer_name
        ),
        shipping_address=to_address_public(order.shipping_address),
        lines=[
            http.LinePublic(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=None if line.tax_rate is None else rate_text(line.tax_rate),
                returned=returned.get(line.sku, 0),
            )
            for line in order.lines
        ],
        currency=order.currency,
        total=order.total,
        shipments=[to_shipment_public(shipment) for shipment in order.shipments],
        history=[to_history_public(entry) for entry in order.history],
        created_at=order.created_at,
        updated_at=order.updated_at,
        payment=None if order.payment is None else to_payment_public(order.payment),
        invoices=[
            http.DocumentSummary(
                number=doc.number, kind=doc.kind, total=doc.total, issued_at=doc.issued_at
            )
            for doc in order.documents
        ],
        refunds=[
            http.RefundSummary(id=r.id, status=r.status, amount=r.amount, method=r.method)
            for r in order.refunds
        ],
        returns=[_summary(r) for r in order.returns if r.kind == ReturnKind.RETURN],
        claims=[_summary(r) for r in order.returns if r.kind == ReturnKind.CLAIM],
        exchange_for=order.exchange_for,
        placed_by_return=order.placed_by_return,
    )


def _returned_units(order: OrderRecord) -> dict[str, int]:
    """Units per SKU the order's returns received back (claims bring nothing back)."""
    units: dict[str, int] = {}
    for ret in order.returns:
        if ret.kind == ReturnKind.RETURN:
            for line in ret.lines:
                units[line.sku] = units.get(line.sku, 0) + line.resellable + line.damaged
    return units


def _summary(ret: ReturnRecord) -> http.ReturnSummary:
    return http.ReturnSummary.model_validate({"id": ret.id, "status": ret.status})


def to_payment_public(payment: PaymentRecord) -> http.PaymentPublic:
    return http.PaymentPublic(
        status=payment.status,
        authorized=payment.authorized,
        captured=payment.captured,
        refunded=payment.refunded,
        store_credit=payment.store_credit,
    )


def to_address_public(stored: dict[str, Any]) -> http.Address:
    """`orders.shipping_address` as the HTTP address (keys it does not know are left out)."""
    return http.Address(
        name=stored["name"],
        line1=stored["line1"],
        line2=stored.get("line2"),
        city=stored["city"],
        postal_code=stored["postal_code"],
        country=stored["country"],
    )


def to_shipment_public(shipment: ShipmentRecord) -> http.ShipmentPublic:
    return http.ShipmentPublic(
        id=shipment.id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
    )


def to_history_public(entry: HistoryRecord) -> http.HistoryPublic:
    return http.HistoryPublic(
        status=OrderStatus(entry.status), at=entry.at, reason=entry.reason, actor=entry.actor
    )


def to_stock_public(item: InventoryRecord) -> http.StockPublic:
    """The HTTP view of one SKU's stock."""
    return http.StockPublic(
        sku=item.sku,
        on_hand=item.on_hand,
        reserved=item.reserved,
        available=item.on_hand - item.reserved,
        damaged=item.damaged or 0,  # None on a row not yet flushed
    )


def to_audit_public(row: AuditRecord) -> http.AuditPublic:
    """The HTTP view of one audit row."""
    return http.AuditPublic.model_validate(
        {
            "id": row.id,
            "at": row.at,
            "action": row.action,
            "requested_by": row.requested_by,
            "label": row.label,
            "request": row.request,
            "outcome": row.outcome,
            "detail": row.detail,
        }
    )


# HTTP → payloads: support requests for the order's workflow


def to_address(address: http.Address) -> c.Address:
    """An HTTP address as the workflow's payload."""
    return c.Address(
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        postal_code=address.postal_code,
        country=address.country,
    )


def to_line_change(line: http.LineChange) -> c.LineChange:
    return c.LineChange(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)


def to_change_request(body: http.ChangeCreate, request_id: str, actor: str) -> c.ChangeRequest:
    address = body.shipping_address
    return c.ChangeRequest(
        requested_by=actor,
        label=body.requested_by,
        reason=body.reason,
        shipping_address=to_address(address) if address is not None else None,
        lines=[to_line_change(line) for line in body.lines] if body.lines else None,
        request_id=request_id,
    )


def to_hold_request(body: http.HoldCreate, request_id: str, actor: str) -> c.HoldRequest:
    return c.HoldRequest(
        reason_code=c.HoldReason(body.reason_code),
        requested_by=actor,
        label=body.requested_by,
        note=body.note,
        request_id=request_id,
    )


def to_release_request(body: http.ReleaseCreate, request_id: str, actor: str) -> c.ReleaseRequest:
    return c.ReleaseRequest(
        requested_by=actor, label=body.requested_by, note=body.note, request_id=request_id
    )


def to_cancel_request(body: http.CancelCreate, request_id: str, actor: str) -> c.CancelRequest:
    return c.CancelRequest(
        reason=body.reason, requested_by=actor, label=body.requested_by, request_id=request_id
    )


def to_api_key_public(key: ApiKeyRecord) -> http.ApiKeyPublic:
    """A stored key as listed (its hash stays in the database)."""
    return http.ApiKeyPublic.model_validate(
        {
            "id": key.id,
            "name": key.name,
            "role": key.role,
            "channel": key.channel,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
            "last_used_at": key.last_used_at,
        }
    )


def to_api_key_created(key: ApiKeyRecord, secret: str) -> http.ApiKeyCreated:
    """A new key with its secret: the one answer that shows it."""
    return http.ApiKeyCreated(**to_api_key_public(key).model_dump(), key=secret)
