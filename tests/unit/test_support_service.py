"""The support service's decisions (api/support_service.py), against stand-ins of the database
and of Temporal: what it sends, what it refuses itself, what it audits, what it answers."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from api import schemas as http
from api.errors import OrderNotFound, Refused, SupportUnavailable
from api.mapping import to_order_record
from api.support_service import SupportService, WorkflowNotRunning
from db.models import AuditRecord, OrderRecord
from db.orders import OrderHead
from security.principal import Principal, PrincipalKind
from security.roles import Role
from tests.factories import make_order_body
from workflows.contracts import (
    AuditOutcome,
    ChangeRequest,
    RecordAuditInput,
    SupportAction,
    SupportRequest,
)

AGENT = "agent-7"  # the body's requested_by: a label beside the caller
CALLER = Principal(kind=PrincipalKind.API_KEY, id="key_1", name="desk", role=Role.SUPPORT)
SHOP_B = Principal(
    kind=PrincipalKind.API_KEY, id="key_2", name="shop-b", role=Role.STOREFRONT, channel="b"
)
HOLD = http.HoldCreate(reason_code="fraud_review", requested_by=AGENT)


@dataclass
class Records:
    """The database as the service sees it: orders, known SKUs, audit rows written."""

    orders: dict[str, OrderRecord] = field(default_factory=dict)
    known_skus: set[str] = field(default_factory=lambda: {"SKU-A", "SKU-NEW"})
    audited: list[RecordAuditInput] = field(default_factory=list)
    earlier: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    async def order(self, order_id: str) -> OrderRecord | None:
        return self.orders.get(order_id)

    async def head(self, order_id: str) -> OrderHead | None:
        order = self.orders.get(order_id)
        return None if order is None else OrderHead(status=order.status, channel=order.channel)

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]:
        return [sku for sku in skus if sku not in self.known_skus]

    async def requests_of(self, request_id: str) -> list[dict[str, object]]:
        return self.earlier.get(request_id, [])

    async def audit(self, record: RecordAuditInput) -> None:
        self.audited.append(record)

    async def audit_trail(self, order_id: str) -> Sequence[AuditRecord]:
        return [AuditRecord(order_id=order_id, action=r.action) for r in self.audited]


@dataclass
class Updates:
    """Temporal as the service sees it: what was sent, and the answer the next send gets."""

    answer: Exception | None = None
    sent: list[tuple[str, SupportAction, SupportRequest]] = field(default_factory=list)

    async def send(self, order_id: str, action: SupportAction, request: SupportRequest) -> None:
        self.sent.append((order_id, action, request))
        if self.answer is not None:
            raise self.answer


@pytest.fixture
def records() -> Records:
    return Records()


@pytest.fixture
def updates() -> Updates:
    return Updates()


@pytest.fixture
def service(records: Records, updates: Updates) -> SupportService:
    return SupportService(records, updates)


def stored(records: Records, status: str = "reserved") -> str:
    body = http.OrderCreate.model_validate(make_order_body([("SKU-A", 2)]))
    order = to_order_record(body, None, "default", "key:shop")
    order.status = status
    records.orders[order.id] = order
    return order.id


def change(**fields: Any) -> http.ChangeCreate:
    return http.ChangeCreate.model_validate({"requested_by": AGENT} | fields)


def error_locations(raised: pytest.ExceptionInfo[RequestValidationError]) -> list[Any]:
    return [(tuple(e["loc"]), e["type"]) for e in raised.value.errors()]


async def test_an_accepted_hold_is_sent_once_and_answers_the_order_as_read_afterwards(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)

    order = await service.hold(order_id, HOLD, "key-1", CALLER)

    [(sent_to, action, request)] = updates.sent
    assert (sent_to, action, request.request_id) == (order_id, "hold", f"{order_id}:hold:key-1")
    assert order is records.orders[order_id]
    assert records.audited == []  # the workflow audits what it accepted


async def test_without_a_key_every_request_is_a_new_update(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)

    await service.hold(order_id, HOLD, None, CALLER)
    await service.hold(order_id, HOLD, None, CALLER)

    first, second = (request.request_id for _, _, request in updates.sent)
    assert first != second
    assert first.startswith(f"{order_id}:hold:")


@pytest.mark.parametrize("action", ["change", "hold", "release", "cancel", "audit_trail"])
async def test_an_unknown_order_is_not_found_and_nothing_is_sent(
    service: SupportService, updates: Updates, action: str
) -> None:
    bodies: dict[str, Any] = {
        "change": change(lines=[{"sku": "SKU-A", "quantity": 1}]),
        "hold": HOLD,
        "release": http.ReleaseCreate(requested_by=AGENT),
        "cancel": http.CancelCreate(reason="r", requested_by=AGENT),
    }
    call = getattr(service, action)
    args = ("nope", CALLER) if action == "audit_trail" else ("nope", bodies[action], None, CALLER)

    with pytest.raises(OrderNotFound, match="order nope not found"):
        await call(*args)
    assert updates.sent == []


async def test_a_refusal_by_the_workflow_is_audited_once_with_its_reason(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)
    updates.answer = Refused("order is shipped: too late to hold")

    with pytest.raises(Refused, match="too late to hold"):
        await service.hold(order_id, HOLD, "key-1", CALLER)

    [audit] = records.audited
    assert (audit.order_id, audit.action, audit.outcome) == (order_id, "hold", AuditOutcome.REFUSED)
    assert (audit.request_id, audit.detail) == (
        f"{order_id}:hold:key-1",
        "order is shipped: too late to hold",
    )
    assert (audit.requested_by, audit.label) == ("key:desk", AGENT)
    assert audit.request_json == (
        '{"label": "agent-7", "reason_code": "fraud_review", "requested_by": "key:desk"}'
    )


async def test_a_key_used_before_for_another_request_is_refused_before_sending(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)
    records.earlier[f"{order_id}:hold:key-1"] = [{"reason_code": "customer_request"}]

    with pytest.raises(Refused, match="already used for a different request"):
        await service.hold(order_id, HOLD, "key-1", CALLER)
    assert updates.sent == []


async def test_the_same_request_again_with_its_key_is_sent_again_for_its_first_answer(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)
    records.earlier[f"{order_id}:hold:key-1"] = [
        {"reason_code": "fraud_review", "requested_by": "key:desk", "label": AGENT}
    ]

    await service.hold(order_id, HOLD, "key-1", CALLER)

    assert len(updates.sent) == 1


async def test_a_finished_orders_closed_workflow_refuses_with_the_final_status(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records, status="completed")
    updates.answer = WorkflowNotRunning(order_id)

    with pytest.raises(Refused, match="order is already completed"):
        await service.cancel(
            order_id, http.CancelCreate(reason="r", requested_by=AGENT), None, CALLER
        )
    assert [audit.detail for audit in records.audited] == ["order is already completed"]


async def test_a_workflow_not_started_yet_is_unavailable_for_now_and_not_audited(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records, status="pending")
    updates.answer = WorkflowNotRunning(order_id)

    with pytest.raises(SupportUnavailable, match="not started yet"):
        await service.hold(order_id, HOLD, None, CALLER)
    assert records.audited == []


async def test_temporal_not_answering_is_unavailable_and_not_audited(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)
    updates.answer = SupportUnavailable("the workflow service did not answer")

    with pytest.raises(SupportUnavailable):
        await service.release(order_id, http.ReleaseCreate(requested_by=AGENT), None, CALLER)
    assert records.audited == []


async def test_a_change_sends_the_new_lines_and_address_as_the_workflows_payload(
    service: SupportService, records: Records, updates: Updates
) -> None:
    order_id = stored(records)
    body = change(lines=[{"sku": "SKU-A", "quantity": 3}], reason="phone")

    await service.change(order_id, body, "k", CALLER)

    [(_, action, request)] = updates.sent
    assert action == "change"
    assert isinstance(request, ChangeRequest)
    assert [(line.sku, line.quantity) for line in request.lines or []] == [("SKU-A", 3)]
    assert (request.reason, request.shipping_address) == ("phone", None)


async def test_an_empty_change_is_a_422_on_the_body_and_nothing_is_sent(
    service: SupportService, records: Records, updates: Updates
) -> None:
    with pytest.raises(RequestValidationError) as raised:
        await service.change(stored(records), change(), None, CALLER)

    assert error_locations(raised) == [(("body",), "empty_change")]
    assert updates.sent == []


async def test_each_invalid_line_of_a_change_is_named_by_its_field(
    service: SupportService, records: Records, updates: Updates
) -> None:
    lines = [
        {"sku": "SKU-A", "quantity": 1, "unit_price": 5},  # the order has it at 1999
        {"sku": "SKU-NEW", "quantity": 1},  # new, without a price
        {"sku": "SKU-NEW", "quantity": 2, "unit_price": 5},  # twice
        {"sku": "SKU-GHOST", "quantity": 1, "unit_price": 5},  # the inventory has never heard of it
    ]

    with pytest.raises(RequestValidationError) as raised:
        await service.change(stored(records), change(lines=lines), None, CALLER)

    assert error_locations(raised) == [
        (("body", "lines", 0, "unit_price"), "price_change"),
        (("body", "lines", 1, "unit_price"), "missing"),
        (("body", "lines", 2, "sku"), "duplicate_sku"),
        (("body", "lines", 3, "sku"), "unknown_sku"),
    ]
    assert updates.sent == []


async def test_removing_a_line_needs_no_price_and_its_own_price_again_is_no_price_change(
    service: SupportService, records: Records, updates: Updates
) -> None:
    lines = [{"sku": "SKU-A", "quantity": 0, "unit_price": 1999}, {"sku": "SKU-NEW", "quantity": 0}]

    await service.change(stored(records), change(lines=lines), None, CALLER)

    assert len(updates.sent) == 1


@pytest.mark.parametrize("action", ["change", "hold", "release", "cancel", "audit_trail"])
async def test_an_order_of_a_channel_the_caller_does_not_see_is_not_found(
    service: SupportService, records: Records, updates: Updates, action: str
) -> None:
    order_id = stored(records)  # on channel "default"
    bodies: dict[str, Any] = {
        "change": change(lines=[{"sku": "SKU-A", "quantity": 1}]),
        "hold": HOLD,
        "release": http.ReleaseCreate(),
        "cancel": http.CancelCreate(reason="r"),
    }
    call = getattr(service, action)
    args = (
        (order_id, SHOP_B) if action == "audit_trail" else (order_id, bodies[action], None, SHOP_B)
    )

    with pytest.raises(OrderNotFound):
        await call(*args)
    assert updates.sent == []
