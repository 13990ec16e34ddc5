"""Explicit mapping between HTTP models and database rows (neither module imports the other)."""

import hashlib
import json
from datetime import UTC, datetime
from uuid import uuid4

from api.schemas import (
    Address,
    AuditPublic,
    Customer,
    HistoryPublic,
    Line,
    OrderCreate,
    OrderPublic,
    ShipmentPublic,
    StockPublic,
)
from db.models import (
    AuditRecord,
    HistoryRecord,
    InventoryRecord,
    OrderLineRecord,
    OrderRecord,
)

PLACED_BY = "storefront"  # the actor of the `pending` history row the API writes


def request_hash(body: OrderCreate) -> str:
    """sha256 of the canonical body: same meaning, same hash, whatever the key order or spacing."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def to_order_record(body: OrderCreate, idempotency_key: str | None) -> OrderRecord:
    """A new `pending` order (version 0) with its lines and the history row seq 0."""
    order_id, now = str(uuid4()), datetime.now(UTC)
    lines = [
        OrderLineRecord(
            line_no=no, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price
        )
        for no, line in enumerate(body.lines)
    ]
    return OrderRecord(
        id=order_id,
        customer_id=body.customer.id,
        customer_email=body.customer.email,
        customer_name=body.customer.name,
        shipping_address=body.shipping_address.model_dump(mode="json"),
        currency=body.currency,
        total=sum(line.quantity * line.unit_price for line in body.lines),
        payment_token=body.payment.token,
        status="pending",
        idempotency_key=idempotency_key,
        request_hash=request_hash(body),
        version=0,
        created_at=now,
        updated_at=now,
        lines=lines,
        history=[HistoryRecord(seq=0, status="pending", actor=PLACED_BY, at=now)],
        shipments=[],
    )


def to_order_public(order: OrderRecord) -> OrderPublic:
    """The HTTP view of a stored order (lines, history and shipments must be loaded)."""
    return OrderPublic(
        id=order.id,
        status=order.status,
        status_reason=order.status_reason,
        customer=Customer(
            id=order.customer_id, email=order.customer_email, name=order.customer_name
        ),
        shipping_address=Address.model_validate(order.shipping_address),
        lines=[
            Line(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
            for line in order.lines
        ],
        currency=order.currency,
        total=order.total,
        shipments=[
            ShipmentPublic(
                id=s.id, carrier=s.carrier, tracking_number=s.tracking_number, status=s.status
            )
            for s in order.shipments
        ],
        history=[
            HistoryPublic(status=h.status, at=h.at, reason=h.reason, actor=h.actor)
            for h in order.history
        ],
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def to_stock_public(item: InventoryRecord) -> StockPublic:
    """The HTTP view of one SKU's stock."""
    return StockPublic(
        sku=item.sku,
        on_hand=item.on_hand,
        reserved=item.reserved,
        available=item.on_hand - item.reserved,
    )


def to_audit_public(row: AuditRecord) -> AuditPublic:
    """The HTTP view of one audit row."""
    return AuditPublic.model_validate(
        {
            "id": row.id,
            "at": row.at,
            "action": row.action,
            "requested_by": row.requested_by,
            "request": row.request,
            "outcome": row.outcome,
            "detail": row.detail,
        }
    )
