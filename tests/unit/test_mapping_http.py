"""The API's edge (api/mapping.py): each crossing between HTTP models, rows and payloads."""

from datetime import UTC, datetime
from typing import Any

from api import mapping
from api import schemas as http
from db.models import AuditRecord, HistoryRecord, InventoryRecord, ShipmentRecord
from tests.factories import ADDRESS, make_order_body
from workflows import contracts as c

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def order_create(**overrides: Any) -> http.OrderCreate:
    return http.OrderCreate.model_validate(
        make_order_body([("SKU-A", 2), ("SKU-B", 1)]) | overrides
    )


def test_a_new_order_is_pending_at_version_0_with_its_lines_in_order_and_the_summed_total() -> None:
    record = mapping.to_order_record(order_create(), "key-1", "default", "key:shop")

    assert (record.status, record.version, record.idempotency_key) == ("pending", 0, "key-1")
    assert [(line.line_no, line.sku, line.quantity) for line in record.lines] == [
        (0, "SKU-A", 2),
        (1, "SKU-B", 1),
    ]
    assert record.total == 3 * 1999


def test_a_new_order_has_one_history_row_seq_0_placed_by_the_caller_on_its_channel() -> None:
    record = mapping.to_order_record(order_create(), None, "eu", "key:shop-eu")

    [placed] = record.history
    assert (placed.seq, placed.status, placed.actor) == (0, "pending", "key:shop-eu")
    assert record.channel == "eu"
    assert placed.at == record.created_at == record.updated_at


def test_a_new_order_stores_the_customer_payment_and_address_as_given() -> None:
    body = order_create()

    record = mapping.to_order_record(body, None, "default", "key:shop")

    assert (record.customer_id, record.customer_email) == (body.customer.id, "ada@example.com")
    assert record.payment_token == "tok_visa"
    assert record.shipping_address == ADDRESS
    assert record.request_hash == mapping.request_hash(body)


def test_the_request_hash_ignores_key_order_but_not_content() -> None:
    body = make_order_body([("SKU-A", 1)])
    reordered = dict(reversed(list(body.items())))

    same = mapping.request_hash(http.OrderCreate.model_validate(reordered))
    other = mapping.request_hash(http.OrderCreate.model_validate(body | {"currency": "USD"}))

    assert same == mapping.request_hash(http.OrderCreate.model_validate(body))
    assert other != same


def test_a_stored_order_reads_back_as_the_order_that_was_placed() -> None:
    body = order_create()
    record = mapping.to_order_record(body, None, "default", "key:shop")

    public = mapping.to_order_public(record)

    assert public.status == "pending"
    assert public.customer == body.customer
    assert public.shipping_address == body.shipping_address
    assert [line.model_dump(exclude={"returned"}) for line in public.lines] == [
        line.model_dump() for line in body.lines
    ]
    assert all(line.returned == 0 for line in public.lines)
    assert [entry.status for entry in public.history] == ["pending"]


def test_a_stored_address_with_a_key_http_does_not_know_still_reads() -> None:
    assert mapping.to_address_public(ADDRESS | {"phone": "+49 30 1234"}) == http.Address(**ADDRESS)


def test_a_shipment_and_a_history_row_read_as_stored() -> None:
    shipment = ShipmentRecord(
        id="shp-1", order_id="o-1", carrier="SimPost", tracking_number="SP1", status="in_transit"
    )
    entry = HistoryRecord(order_id="o-1", seq=3, status="on_hold", reason="r", actor="a", at=AT)

    assert mapping.to_shipment_public(shipment) == http.ShipmentPublic(
        id="shp-1", carrier="SimPost", tracking_number="SP1", status="in_transit"
    )
    assert mapping.to_history_public(entry) == http.HistoryPublic(
        status="on_hold", at=AT, reason="r", actor="a"
    )


def test_stock_shows_what_is_available_to_new_orders() -> None:
    item = InventoryRecord(sku="SKU-A", on_hand=10, reserved=4)

    assert mapping.to_stock_public(item) == http.StockPublic(
        sku="SKU-A", on_hand=10, reserved=4, available=6
    )


def test_an_audit_row_reads_as_asked_and_answered() -> None:
    row = AuditRecord(
        id=7,
        order_id="o-1",
        request_id="o-1:hold:k",
        action="hold",
        requested_by="agent-7",
        request={"reason_code": "fraud_review"},
        outcome="refused",
        detail="order is already on hold",
        at=AT,
    )

    public = mapping.to_audit_public(row)

    assert (public.id, public.action, public.outcome) == (7, "hold", "refused")
    assert public.request == {"reason_code": "fraud_review"}


def test_an_http_address_becomes_the_payloads_address_field_by_field() -> None:
    address = http.Address(**ADDRESS | {"line2": "Apt 3"})

    assert mapping.to_address(address) == c.Address(**ADDRESS | {"line2": "Apt 3"})


def test_a_change_request_carries_the_new_address_and_lines_and_its_request_id() -> None:
    body = http.ChangeCreate(
        shipping_address=http.Address(**ADDRESS),
        lines=[
            http.LineChange(sku="SKU-A", quantity=0),
            http.LineChange(sku="N", quantity=1, unit_price=5),
        ],
        requested_by="agent-7",
        reason="phone",
    )

    request = mapping.to_change_request(body, "o-1:change:k", "user:ana")

    assert request == c.ChangeRequest(
        requested_by="user:ana",
        label="agent-7",
        reason="phone",
        shipping_address=c.Address(**ADDRESS),
        lines=[
            c.LineChange(sku="SKU-A", quantity=0),
            c.LineChange(sku="N", quantity=1, unit_price=5),
        ],
        request_id="o-1:change:k",
    )


def test_a_change_of_the_address_alone_sends_no_lines() -> None:
    body = http.ChangeCreate(shipping_address=http.Address(**ADDRESS), requested_by="a")

    assert mapping.to_change_request(body, "r", "key:desk").lines is None


def test_a_hold_request_names_its_reason_as_the_enum() -> None:
    body = http.HoldCreate(reason_code="fraud_review", note="new card", requested_by="agent-7")

    request = mapping.to_hold_request(body, "r", "key:desk")

    assert request.reason_code is c.HoldReason.FRAUD_REVIEW
    assert (request.note, request.requested_by, request.label, request.request_id) == (
        "new card",
        "key:desk",
        "agent-7",
        "r",
    )


def test_release_and_cancel_requests_carry_the_caller_their_label_why_and_the_request_id() -> None:
    release = mapping.to_release_request(
        http.ReleaseCreate(requested_by="a", note="ok"), "r1", "user:ana"
    )
    cancel = mapping.to_cancel_request(http.CancelCreate(reason="why"), "r2", "key:shop")

    assert release == c.ReleaseRequest(
        requested_by="user:ana", label="a", note="ok", request_id="r1"
    )
    assert cancel == c.CancelRequest(reason="why", requested_by="key:shop", request_id="r2")
