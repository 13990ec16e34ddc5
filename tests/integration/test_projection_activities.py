"""ProjectionActivities on the real PostgreSQL: the read model as each transition records it.

Every test places its own order (as the API does: `pending`, version 0, history row seq 0) and
uses shipment and request ids of its own, so none can see another's rows.
"""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from temporalio.testing import ActivityEnvironment

from activities.projection import ProjectionActivities
from api.mapping import to_order_record
from api.schemas import OrderCreate
from db.audit import AuditRepository
from db.models import AuditRecord, OrderRecord
from db.orders import OrderRepository
from db.session import SessionFactory
from tests.factories import make_address, make_order_body
from workflows.contracts import (
    HistoryEntry,
    OrderLine,
    OrderStatus,
    RecordAuditInput,
    RecordStatusInput,
    Shipment,
    SupportAction,
)

pytestmark = pytest.mark.integration

S = OrderStatus


@pytest.fixture
def projection(sessions: SessionFactory) -> ProjectionActivities:
    return ProjectionActivities(sessions)


@pytest.fixture
async def order_id(sessions: SessionFactory) -> str:
    """A placed order with one line of 2 × SKU-A at 19.99 EUR."""
    body = OrderCreate.model_validate(make_order_body([("SKU-A", 2)]))
    order = to_order_record(body, None, "default", "key:shop")
    async with sessions.begin() as session:
        await OrderRepository(session).create(order)
    return order.id


def transition(order_id: str, seq: int, status: OrderStatus) -> RecordStatusInput:
    entry = HistoryEntry(status=status, at=datetime.now(UTC), reason=f"step {seq}")
    return RecordStatusInput(order_id=order_id, seq=seq, entry=entry)


def in_transit() -> Shipment:
    return Shipment(
        shipment_id=f"shp-{uuid4()}", carrier="SimPost", tracking_number="SP1", status="in_transit"
    )


async def record(projection: ProjectionActivities, *records: RecordStatusInput) -> None:
    for each in records:
        await ActivityEnvironment().run(projection.record_status, each)


async def stored(sessions: SessionFactory, order_id: str) -> OrderRecord:
    async with sessions() as session:
        order = await OrderRepository(session).get_with_details(order_id)
    assert order is not None
    return order


async def test_a_transition_becomes_the_orders_status_and_a_history_row(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    reserved = transition(order_id, 1, S.RESERVED)

    await record(projection, reserved)

    order = await stored(sessions, order_id)
    assert (order.status, order.version, order.updated_at) == ("reserved", 1, reserved.entry.at)
    assert [(h.seq, h.status, h.reason) for h in order.history] == [
        (0, "pending", None),
        (1, "reserved", "step 1"),
    ]


async def test_a_retried_record_writes_its_history_row_once(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    reserved = transition(order_id, 1, S.RESERVED)

    await record(projection, reserved, reserved)  # the reply was lost; Temporal retries

    assert [h.seq for h in (await stored(sessions, order_id)).history] == [0, 1]


async def test_an_older_record_landing_late_never_moves_the_order_back(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    await record(projection, transition(order_id, 2, S.PICKED), transition(order_id, 1, S.RESERVED))

    order = await stored(sessions, order_id)
    assert (order.status, order.version) == ("picked", 2)


async def test_the_status_reason_is_written_with_the_status(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    cancelled = replace(transition(order_id, 1, S.CANCELLED), status_reason="customer_request")

    await record(projection, cancelled)

    assert (await stored(sessions, order_id)).status_reason == "customer_request"


async def test_a_shipment_is_written_with_its_carrier_and_tracking_number(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    shipment = in_transit()

    await record(projection, replace(transition(order_id, 1, S.SHIPPED), shipment=shipment))

    written = (await stored(sessions, order_id)).shipments
    assert [(s.id, s.carrier, s.tracking_number, s.status) for s in written] == [
        (shipment.shipment_id, "SimPost", "SP1", "in_transit")
    ]


async def test_a_later_record_of_the_same_shipment_updates_its_status(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    shipment = in_transit()
    shipped = replace(transition(order_id, 1, S.SHIPPED), shipment=shipment)
    delivered = replace(
        transition(order_id, 2, S.DELIVERED), shipment=replace(shipment, status="delivered")
    )

    await record(projection, shipped, delivered)

    assert [s.status for s in (await stored(sessions, order_id)).shipments] == ["delivered"]


async def test_a_change_rewrites_the_orders_lines_total_and_address(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    lines = [OrderLine(sku="SKU-B", quantity=3, unit_price=500)]
    address = make_address(city="Paris", line2="Bât. C")
    changed = replace(
        transition(order_id, 1, S.PENDING), lines=lines, total=1500, shipping_address=address
    )

    await record(projection, changed)

    order = await stored(sessions, order_id)
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("SKU-B", 3, 500)
    ]
    assert (order.total, order.shipping_address["city"], order.shipping_address["line2"]) == (
        1500,
        "Paris",
        "Bât. C",
    )


async def test_a_transition_without_a_change_keeps_the_orders_lines_and_total(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    await record(projection, transition(order_id, 1, S.RESERVED))

    order = await stored(sessions, order_id)
    assert [(line.sku, line.quantity) for line in order.lines] == [("SKU-A", 2)]
    assert order.total == 2 * 1999


def audit(order_id: str, request_id: str, outcome: str) -> RecordAuditInput:
    return RecordAuditInput(
        order_id=order_id,
        request_id=request_id,
        action=SupportAction.HOLD,
        requested_by="agent-7",
        request_json='{"reason_code": "fraud_review"}',
        outcome=outcome,
        detail=None if outcome == "accepted" else "order is already shipped",
        at=datetime.now(UTC),
    )


async def audit_trail(sessions: SessionFactory, order_id: str) -> list[AuditRecord]:
    async with sessions() as session:
        return list(await AuditRepository(session).for_order(order_id))


async def test_a_retried_audit_record_writes_its_outcome_once(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    accepted = audit(order_id, f"hold:{uuid4()}", "accepted")

    for _ in range(2):  # the reply was lost; Temporal retries
        await ActivityEnvironment().run(projection.record_audit, accepted)

    rows = await audit_trail(sessions, order_id)
    assert [(r.request_id, r.action, r.requested_by, r.request, r.outcome) for r in rows] == [
        (accepted.request_id, "hold", "agent-7", {"reason_code": "fraud_review"}, "accepted")
    ]


async def test_each_outcome_of_one_request_gets_its_own_audit_row(
    projection: ProjectionActivities, sessions: SessionFactory, order_id: str
) -> None:
    request_id = f"hold:{uuid4()}"

    for outcome in ("accepted", "refused"):
        await ActivityEnvironment().run(
            projection.record_audit, audit(order_id, request_id, outcome)
        )

    rows = await audit_trail(sessions, order_id)
    assert [(r.outcome, r.detail) for r in rows] == [
        ("accepted", None),
        ("refused", "order is already shipped"),
    ]
