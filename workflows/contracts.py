"""Temporal payloads: they live in workflow history, so fields are only added, with defaults.

Also the order's vocabulary (statuses, hold reasons, support actions, activity names) as enums:
the HTTP models and the read model spell the same words, pinned equal by tests/unit.
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ON_HOLD = SearchAttributeKey.for_bool("OnHold")
ORDER_TOTAL = SearchAttributeKey.for_int("OrderTotal")  # minor units of the order's currency
SKUS = SearchAttributeKey.for_keyword_list("Skus")
# The refund workflows': ops find the failed ones with `RefundStatus = "failed"`, an order's
# with `OrderId = "…"` (workflows/money_contracts.py).
REFUND_STATUS = SearchAttributeKey.for_keyword("RefundStatus")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
# The return workflows' (workflows/return_contracts.py): `ReturnStatus = "awaiting_receipt"`.
RETURN_STATUS = SearchAttributeKey.for_keyword("ReturnStatus")
# Not shipped within OMS_SHIP_SLA of placement: ops filter with `Late = true`.
LATE = SearchAttributeKey.for_bool("Late")
AnyKey = (
    SearchAttributeKey[str]
    | SearchAttributeKey[bool]
    | SearchAttributeKey[int]
    | SearchAttributeKey[Sequence[str]]
)
SEARCH_ATTRIBUTES: tuple[AnyKey, ...] = (
    ORDER_STATUS,
    CUSTOMER_ID,
    ON_HOLD,
    ORDER_TOTAL,
    SKUS,
    REFUND_STATUS,
    ORDER_ID,
    RETURN_STATUS,
    LATE,
)


def order_workflow_id(order_id: str) -> str:
    """The one way to name an order's workflow."""
    return f"order-{order_id}"


class OrderStatus(StrEnum):
    """Where an order is. The allowed moves between them are in `workflows.rules.TRANSITIONS`."""

    PENDING = "pending"
    ON_HOLD = "on_hold"  # stopped by a person (or the payment review) before its next step
    BACKORDERED = "backordered"
    RESERVED = "reserved"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Actor(StrEnum):
    """Who moved an order, when it was not a named person."""

    STOREFRONT = "storefront"
    WORKFLOW = "workflow"


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: int
    tax_rate: str | None = None  # the line's own VAT rate ("7"); None: the country's standard


@dataclass(frozen=True, kw_only=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderInput:
    """Everything the workflow needs to drive one order, so it never reads the database itself."""

    order_id: str
    customer_id: str
    lines: list[OrderLine]
    currency: str
    total: int
    payment_token: str
    shipping_address: Address
    backorder_window_s: float = 7 * 24 * 3600
    backorder_recheck_s: float = 3600
    delivery_window_s: float = 30 * 24 * 3600
    payment_review_above: int | None = None  # a larger total is held for payment_review
    store_credit: int = 0  # of the total, paid with the customer's store credit; the card: the rest
    # An advance exchange: shipped before its return arrives; captured (and invoiced) once the
    # return's workflow signals `return_settled` with how much the returned goods cover.
    awaits_return: bool = False
    # Not shipped `ship_sla_s` after `placed_at`: the order is late (order.delayed, `Late`).
    # None: no watch (orders started before it existed).
    ship_sla_s: float | None = None
    placed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    status: OrderStatus
    at: datetime
    reason: str | None = None
    actor: str = Actor.WORKFLOW


@dataclass(frozen=True, kw_only=True)
class OrderResult:
    order_id: str
    status: OrderStatus
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderState:
    """The `status` query: live status, its reason, the transitions so far, what it waits for."""

    status: OrderStatus
    reason: str | None
    history: list[HistoryEntry]
    waiting_for: str | None = None
    resumes_to: OrderStatus | None = None  # while on hold: the status a release returns to


@dataclass(frozen=True, kw_only=True)
class CancelRequest:
    """Payload of the `cancel` update and of the `cancel` signal."""

    reason: str
    requested_by: str  # the authenticated caller (`key:…`, `user:…`)
    request_id: str = ""  # the update id: the audit row's key
    label: str | None = None  # the caller's own name for the agent (the body's requested_by)


@dataclass(frozen=True, kw_only=True)
class LineChange:
    """A line's new quantity (0 removes it); a SKU not on the order is added at `unit_price`."""

    sku: str
    quantity: int
    unit_price: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRequest:
    """The `change` update: a new shipping address and/or new line quantities."""

    requested_by: str
    reason: str | None = None
    shipping_address: Address | None = None
    lines: list[LineChange] | None = None
    request_id: str = ""
    label: str | None = None


class HoldReason(StrEnum):
    FRAUD_REVIEW = "fraud_review"
    ADDRESS_VERIFICATION = "address_verification"
    PAYMENT_REVIEW = "payment_review"
    CUSTOMER_REQUEST = "customer_request"


@dataclass(frozen=True, kw_only=True)
class HoldRequest:
    """The `hold` update: stop before the next step until released."""

    reason_code: HoldReason
    requested_by: str
    note: str | None = None
    request_id: str = ""
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseRequest:
    """The `release` update: continue where the hold stopped the order."""

    requested_by: str
    note: str | None = None
    request_id: str = ""
    label: str | None = None


@dataclass(frozen=True, kw_only=True)
class SupportAnswer:
    """What a support update answers once it took effect: the order's status and total now."""

    status: OrderStatus
    total: int


@dataclass(frozen=True, kw_only=True)
class CancelAccepted:
    status: OrderStatus


@dataclass(frozen=True, kw_only=True)
class StockChanged:
    """Signal `stock_changed`: these SKUs got stock; a backordered order tries again now."""

    skus: list[str] = field(default_factory=list)


# Activity payloads


@dataclass(frozen=True, kw_only=True)
class StockLine:
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class ReserveStockInput:
    order_id: str
    lines: list[StockLine]


@dataclass(frozen=True, kw_only=True)
class ReserveStockResult:
    """`reserved` is all-or-nothing; when False, `missing` names the SKUs that are short."""

    reserved: bool
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ChangeReservationInput:
    """Make the order's open reservation exactly `lines` (all or nothing)."""

    order_id: str
    lines: list[StockLine]


@dataclass(frozen=True, kw_only=True)
class OrderRef:
    """Input of the steps that need nothing but the order (release, void, cancel pick, ...)."""

    order_id: str


@dataclass(frozen=True, kw_only=True)
class AuthorizePaymentInput:
    order_id: str
    token: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class CapturePaymentInput:
    order_id: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class AdjustPaymentInput:
    """Make the authorized amount `amount` (more: may be declined; less: a partial void)."""

    order_id: str
    token: str
    amount: int
    currency: str
    key: str  # idempotency key, `{order_id}:adjust:{n}`


@dataclass(frozen=True, kw_only=True)
class PaymentResult:
    payment_id: str


@dataclass(frozen=True, kw_only=True)
class WarehouseInput:
    order_id: str
    lines: list[StockLine]


@dataclass(frozen=True, kw_only=True)
class WarehouseResult:
    reference: str


@dataclass(frozen=True, kw_only=True)
class ShipInput:
    order_id: str
    address: Address
    lines: list[StockLine]


@dataclass(frozen=True, kw_only=True)
class Shipment:
    shipment_id: str
    carrier: str
    tracking_number: str
    status: str


@dataclass(frozen=True, kw_only=True)
class DeliveryInput:
    order_id: str
    shipment_id: str


@dataclass(frozen=True, kw_only=True)
class RecordStatusInput:
    """One transition for the read model; `seq` makes the write idempotent under retries."""

    order_id: str
    seq: int
    entry: HistoryEntry
    shipment: Shipment | None = None
    status_reason: str | None = None  # the order's reason code once terminal, or the hold's
    lines: list[OrderLine] | None = None  # after a change: the order's lines, total, address
    total: int | None = None
    shipping_address: Address | None = None


class SupportAction(StrEnum):
    """The support actions, each an Update of the order's workflow of the same name."""

    CHANGE = "change"
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"


class AuditOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


SupportRequest = CancelRequest | ChangeRequest | HoldRequest | ReleaseRequest


def asked(request: SupportRequest) -> dict[str, object]:
    """What a support request asked, as the audit trail stores it (and the API compares it):
    its fields as JSON, without the request id and without what was not given, at every depth."""
    fields = {k: v for k, v in asdict(request).items() if k != "request_id"}
    plain: dict[str, object] = json.loads(json.dumps(fields), object_hook=_without_none)
    return plain


def asked_json(request: SupportRequest) -> str:
    """`asked(request)` as an audit record carries it (`RecordAuditInput.request_json`)."""
    return json.dumps(asked(request), sort_keys=True)


def _without_none(fields: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class RecordAuditInput:
    """One support action and its outcome for the append-only audit table."""

    order_id: str
    request_id: str
    action: SupportAction
    requested_by: str
    request_json: str  # what was asked: `asked_json(request)`
    outcome: str  # an AuditOutcome
    detail: str | None
    at: datetime
    label: str | None = None  # the request's label, beside the caller in requested_by


class ActivityName(StrEnum):
    """Every activity's registered name: the workflow calls them by it (it imports no activity
    code, which touches the database and the outside world), and each `@activity.defn` names
    itself with it, so a typo is a type error rather than an activity that never runs."""

    RESERVE_STOCK = "reserve_stock"
    CHANGE_RESERVATION = "change_reservation"
    RELEASE_STOCK = "release_stock"
    SHIP_STOCK = "ship_stock"
    AUTHORIZE_PAYMENT = "authorize_payment"
    ADJUST_AUTHORIZATION = "adjust_authorization"
    CAPTURE_PAYMENT = "capture_payment"
    VOID_PAYMENT = "void_payment"
    PICK_ORDER = "pick_order"
    PACK_ORDER = "pack_order"
    CANCEL_PICK = "cancel_pick"
    CANCEL_PACK = "cancel_pack"
    CREATE_SHIPMENT = "create_shipment"
    VOID_SHIPMENT = "void_shipment"
    CONFIRM_DELIVERY = "confirm_delivery"
    RECORD_STATUS = "record_status"
    RECORD_AUDIT = "record_audit"
    HOLD_STORE_CREDIT = "hold_store_credit"
    RELEASE_STORE_CREDIT = "release_store_credit"
    ISSUE_INVOICE = "issue_invoice"
    REFUND_PAYMENT = "refund_payment"
    COMPLETE_REFUND = "complete_refund"
    FAIL_REFUND = "fail_refund"
    RECORD_RETURN_STATUS = "record_return_status"
    CREATE_RETURN_LABEL = "create_return_label"
    VOID_RETURN_LABEL = "void_return_label"
    RECEIVE_RETURN_UNITS = "receive_return_units"
    RESOLVE_RETURN = "resolve_return"
    SETTLE_RETURN = "settle_return"
    RECORD_DELAY = "record_delay"
    DELIVER_WEBHOOK = "deliver_webhook"
    GIVE_UP_WEBHOOK = "give_up_webhook"
    SEND_MAIL = "send_mail"
    FAIL_MAIL = "fail_mail"
