"""Rows ↔ payloads (db/mapping.py): what a workflow starts from and what its activities write."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from db import mapping
from db.models import OrderLineRecord, OrderRecord
from settings import Settings
from tests.factories import ADDRESS, make_address
from workflows.contracts import (
    Actor,
    AuditOutcome,
    HistoryEntry,
    OrderLine,
    OrderStatus,
    RecordAuditInput,
    Shipment,
    SupportAction,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def stored_order(**overrides: Any) -> OrderRecord:
    fields: dict[str, Any] = {
        "id": "o-1",
        "customer_id": "cust-42",
        "customer_email": "ada@example.com",
        "customer_name": "Ada",
        "shipping_address": ADDRESS,
        "currency": "EUR",
        "total": 4498,
        "payment_token": "tok_visa",
        "lines": [
            OrderLineRecord(line_no=0, sku="SKU-A", quantity=2, unit_price=1999),
            OrderLineRecord(line_no=1, sku="SKU-B", quantity=1, unit_price=500),
        ],
    }
    return OrderRecord(**fields | overrides)


def test_the_workflow_input_is_the_stored_order_with_the_settings_windows() -> None:
    settings = Settings(
        backorder_window=timedelta(days=2),
        backorder_recheck=timedelta(minutes=5),
        delivery_window=timedelta(days=9),
        payment_review_above=10_000,
        ship_sla=timedelta(hours=24),
    )

    order = mapping.to_order_input(stored_order(), settings)

    assert (order.order_id, order.customer_id, order.currency, order.total) == (
        "o-1",
        "cust-42",
        "EUR",
        4498,
    )
    assert order.lines == [
        OrderLine(sku="SKU-A", quantity=2, unit_price=1999),
        OrderLine(sku="SKU-B", quantity=1, unit_price=500),
    ]
    assert (order.payment_token, order.shipping_address) == ("tok_visa", make_address())
    assert (order.backorder_window_s, order.backorder_recheck_s) == (2 * 86400, 300)
    assert (order.delivery_window_s, order.payment_review_above) == (9 * 86400, 10_000)
    assert (order.ship_sla_s, order.placed_at) == (24 * 3600, stored_order().created_at)


def test_a_stored_address_with_a_key_the_payload_does_not_know_still_starts_the_order() -> None:
    order = stored_order(shipping_address=ADDRESS | {"phone": "+49 30 1234"})

    assert mapping.to_order_input(order, Settings()).shipping_address == make_address()


def test_an_address_stored_and_read_back_is_the_same_address() -> None:
    address = make_address(line2="Apt 3")

    assert mapping.to_address(mapping.to_address_json(address)) == address
    assert mapping.to_address_json(address) == ADDRESS | {"line2": "Apt 3"}


def test_a_history_entry_becomes_the_row_of_its_seq() -> None:
    entry = HistoryEntry(status=OrderStatus.ON_HOLD, at=AT, reason="fraud_review", actor="a-7")

    row = mapping.to_history_row("o-1", 4, entry)

    assert row.column_values() == {
        "order_id": "o-1",
        "seq": 4,
        "status": "on_hold",
        "reason": "fraud_review",
        "actor": "a-7",
        "at": AT,
    }


def test_the_workflows_own_moves_are_recorded_as_the_workflows() -> None:
    row = mapping.to_history_row("o-1", 1, HistoryEntry(status=OrderStatus.RESERVED, at=AT))

    assert row.actor == Actor.WORKFLOW.value


def test_changed_lines_are_numbered_in_their_order() -> None:
    lines = [
        OrderLine(sku="B", quantity=1, unit_price=5),
        OrderLine(sku="A", quantity=3, unit_price=7),
    ]

    rows = mapping.to_line_rows("o-1", lines)

    assert [(r.order_id, r.line_no, r.sku, r.quantity, r.unit_price) for r in rows] == [
        ("o-1", 0, "B", 1, 5),
        ("o-1", 1, "A", 3, 7),
    ]


def test_a_shipment_becomes_the_orders_shipment_row() -> None:
    shipment = Shipment(shipment_id="shp-1", carrier="SimPost", tracking_number="SP1", status="x")

    assert mapping.to_shipment_row("o-1", shipment).column_values() == {
        "id": "shp-1",
        "order_id": "o-1",
        "carrier": "SimPost",
        "tracking_number": "SP1",
        "status": "x",
    }


def test_an_audit_record_becomes_its_row_with_the_request_as_json() -> None:
    record = RecordAuditInput(
        order_id="o-1",
        request_id="o-1:hold:k",
        action=SupportAction.HOLD,
        requested_by="user:ana",
        request_json=json.dumps({"reason_code": "fraud_review"}),
        outcome=AuditOutcome.ACCEPTED,
        detail="on hold",
        at=AT,
        label="agent-7",
    )

    assert mapping.to_audit_row(record).column_values() == {
        "order_id": "o-1",
        "request_id": "o-1:hold:k",
        "label": "agent-7",
        "action": "hold",
        "requested_by": "user:ana",
        "request": {"reason_code": "fraud_review"},
        "outcome": "accepted",
        "detail": "on hold",
        "at": AT,
    }
