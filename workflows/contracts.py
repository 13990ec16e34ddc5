"""Temporal payloads: they live in workflow history, so fields are only added, with defaults."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from temporalio.common import SearchAttributeKey

TASK_QUEUE = "orders"

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
SEARCH_ATTRIBUTES = (ORDER_STATUS, CUSTOMER_ID)


def order_workflow_id(order_id: str) -> str:
    """The one way to name an order's workflow."""
    return f"order-{order_id}"


class OrderStatus(StrEnum):
    """Where an order is. The allowed moves between them are in `workflows.rules.TRANSITIONS`."""

    PENDING = "pending"
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


@dataclass(frozen=True, kw_only=True)
class CancelRequest:
    """Payload of the `cancel` update and of the `cancel` signal."""

    reason: str
    requested_by: str


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
    status_reason: str | None = None  # the order's reason code once terminal
