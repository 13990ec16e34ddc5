"""HTTP models of the integration module: the event feed, webhook endpoints and their
deliveries, the customer view and the e-mails an order sent."""

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from api.money_schemas import BalancePublic
from api.schemas import Address, Strict, UtcDatetime

# integration/catalog.py's EventType, spelled out (tests/unit/test_vocabulary.py pins them equal).
EventTypeName = Literal[
    "order.created",
    "order.status_changed",
    "order.changed",
    "order.held",
    "order.released",
    "order.cancelled",
    "order.shipped",
    "order.delivered",
    "order.completed",
    "order.delayed",
    "customer.updated",
    "payment.captured",
    "refund.succeeded",
    "refund.failed",
    "invoice.issued",
    "credit_note.issued",
    "store_credit.changed",
    "return.requested",
    "return.approved",
    "return.declined",
    "return.awaiting_receipt",
    "return.received",
    "return.completed",
    "return.expired",
    "return.cancelled",
    "claim.created",
    "webhook_endpoint.disabled",
]
Subscription = Literal[EventTypeName, "*"]  # "*": every type, those added later too
DeliveryStatusName = Literal["pending", "succeeded", "failed", "cancelled"]
NotificationStatusName = Literal["pending", "sending", "sent", "failed"]
WebhookUrl = Annotated[
    str, Field(min_length=1, max_length=2000, examples=["https://crm.example/hooks"])
]
Description = Annotated[str, Field(max_length=500)]


class AggregatePublic(BaseModel):
    type: str
    id: str
    sequence: int  # 1, 2, 3, ... per aggregate: a receiver orders what it got by it


class EventPublic(BaseModel):
    """One business fact; `data` holds the resource as it was right after it (README)."""

    id: str
    type: str
    timestamp: str
    aggregate: AggregatePublic
    data: dict[str, Any]


class EventsPublic(BaseModel):
    """Events in commit order. Keep polling with `next_cursor` (it is there even when the page
    is empty): a consumer that follows it sees every event once."""

    items: list[EventPublic]
    next_cursor: str | None


class WebhookEndpointCreate(Strict):
    url: WebhookUrl
    events: list[Subscription] = Field(min_length=1, max_length=50)
    description: Description | None = None


class WebhookEndpointUpdate(Strict):
    """Only the fields given change; `disabled: false` delivers to it again."""

    url: WebhookUrl | None = None
    events: list[Subscription] | None = Field(default=None, min_length=1, max_length=50)
    description: Description | None = None
    disabled: bool | None = None


class WebhookEndpointPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    disabled: bool
    disabled_reason: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class WebhookEndpointWithSecret(WebhookEndpointPublic):
    """Answered once at creation and at each rotation: the secret is never shown again."""

    secret: str


class WebhookEndpointsPublic(BaseModel):
    items: list[WebhookEndpointPublic]


class DeliveryPublic(BaseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    origin: str  # "live", or "replay:<time>" for one a replay sent again
    status: DeliveryStatusName
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: int | None
    next_attempt_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    succeeded_at: UtcDatetime | None


class DeliveriesPublic(BaseModel):
    """Newest first; pass `next_cursor` back as `cursor` for older ones."""

    items: list[DeliveryPublic]
    next_cursor: str | None


class ReplayCreate(Strict):
    # ISO 8601 with its offset, e.g. "2026-12-07T09:00:00Z" (JSON has no datetime type).
    since: Annotated[AwareDatetime, Field(strict=False)]


class ReplayPublic(BaseModel):
    """How many past events were queued to the endpoint again (at most `limit` a call)."""

    replayed: int
    limit: int


class MoneyPublic(BaseModel):
    currency: str
    amount: int


class CustomerPublic(BaseModel):
    """What the OMS knows of a customer, kept current by every order (a CRM's view)."""

    id: str
    email: str
    name: str
    addresses: list[Address]  # the most recent first
    orders_count: int
    total_spent: list[MoneyPublic]  # invoiced less credited, per currency
    first_order_at: UtcDatetime | None
    last_order_at: UtcDatetime | None
    store_credit: list[BalancePublic]


class CustomersPublic(BaseModel):
    items: list[CustomerPublic]
    next_cursor: str | None


class NotificationPublic(BaseModel):
    id: str
    kind: str
    to: str
    language: str
    subject: str | None
    message_id: str
    status: NotificationStatusName
    attempts: int
    last_error: str | None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None


class NotificationsPublic(BaseModel):
    items: list[NotificationPublic]
