"""Rows ↔ Temporal payloads: what an order's workflow starts from, and what its activities write.

Every field is named on both sides: a field one family gains (a phone number on the address, say)
is mapped here on purpose, or not at all, and never breaks the other family by surprise.
"""

import json
from typing import Any, Protocol

from db.models import (
    AuditRecord,
    HistoryRecord,
    OrderLineRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    ShipmentRecord,
)
from money.tax import parse_rate, rate_text
from settings import Settings
from workflows.contracts import (
    Address,
    HistoryEntry,
    OrderInput,
    OrderLine,
    RecordAuditInput,
    Shipment,
)
from workflows.money_contracts import RefundInput, RefundMethod
from workflows.return_contracts import Resolution, ReturnInput, ReturnLine


def to_order_input(record: OrderRecord, settings: Settings) -> OrderInput:
    """The workflow's input, built from the stored order (lines must be loaded) and settings."""
    return OrderInput(
        order_id=record.id,
        customer_id=record.customer_id,
        lines=[
            OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=None if line.tax_rate is None else rate_text(line.tax_rate),
            )
            for line in record.lines
        ],
        currency=record.currency,
        total=record.total,
        payment_token=record.payment_token,
        shipping_address=to_address(record.shipping_address),
        backorder_window_s=settings.backorder_window.total_seconds(),
        backorder_recheck_s=settings.backorder_recheck.total_seconds(),
        delivery_window_s=settings.delivery_window.total_seconds(),
        payment_review_above=settings.payment_review_above,
        store_credit=record.store_credit,
        awaits_return=bool(record.awaits_return),  # False on a row not yet flushed
        ship_sla_s=settings.ship_sla.total_seconds(),
        placed_at=record.created_at,
    )


def to_address(stored: dict[str, Any]) -> Address:
    """The `orders.shipping_address` JSON as the payload's Address (other keys are not its)."""
    return Address(
        name=stored["name"],
        line1=stored["line1"],
        line2=stored.get("line2"),
        city=stored["city"],
        postal_code=stored["postal_code"],
        country=stored["country"],
    )


class PostalAddress(Protocol):
    """An address of either family that writes one (a payload's, an HTTP request's)."""

    @property
    def name(self) -> str: ...
    @property
    def line1(self) -> str: ...
    @property
    def line2(self) -> str | None: ...
    @property
    def city(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def country(self) -> str: ...


def to_address_json(address: PostalAddress) -> dict[str, Any]:
    """An address as `orders.shipping_address` stores it, whoever wrote it."""
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def to_history_row(order_id: str, seq: int, entry: HistoryEntry) -> HistoryRecord:
    """One transition of the order as `order_history` stores it."""
    return HistoryRecord(
        order_id=order_id,
        seq=seq,
        status=entry.status.value,
        reason=entry.reason,
        actor=entry.actor,
        at=entry.at,
    )


def to_line_rows(order_id: str, lines: list[OrderLine]) -> list[OrderLineRecord]:
    """The order's lines, numbered in their order, as `order_lines` stores them."""
    return [
        OrderLineRecord(
            order_id=order_id,
            line_no=no,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=None if line.tax_rate is None else parse_rate(line.tax_rate),
        )
        for no, line in enumerate(lines)
    ]


def to_shipment_row(order_id: str, shipment: Shipment) -> ShipmentRecord:
    """A shipment of the order as `shipments` stores it."""
    return ShipmentRecord(
        id=shipment.shipment_id,
        order_id=order_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        status=shipment.status,
    )


def to_audit_row(record: RecordAuditInput) -> AuditRecord:
    """One support action's outcome as `order_audit` stores it (`request` as JSON)."""
    return AuditRecord(
        order_id=record.order_id,
        request_id=record.request_id,
        action=str(record.action),
        requested_by=record.requested_by,
        label=record.label,
        request=json.loads(record.request_json),
        outcome=str(record.outcome),
        detail=record.detail,
        at=record.at,
    )


def to_refund_input(refund: RefundRecord) -> RefundInput:
    """The refund workflow's input: the claimed refund as stored."""
    return RefundInput(
        refund_id=refund.id,
        order_id=refund.order_id,
        amount=refund.amount,
        currency=refund.currency,
        method=RefundMethod(refund.method),
    )


def to_return_input(record: ReturnRecord, currency: str, settings: Settings) -> ReturnInput:
    """The return workflow's input from the stored return (lines loaded) and settings."""
    return ReturnInput(
        return_id=record.id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        currency=currency,
        resolution=Resolution(record.resolution),
        lines=[
            ReturnLine(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
            for line in record.lines
        ],
        advance=record.advance,
        auto_approve=settings.return_auto_approve,
        receive_window_s=settings.return_receive_window.total_seconds(),
    )
