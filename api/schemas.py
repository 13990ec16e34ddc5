"""HTTP models of API v1: what the storefront sends and reads. Money is integer minor units."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_UNIT_PRICE = 1_000_000_000  # 10 million in major units: totals stay exact in JavaScript
MAX_STOCK = 2**31 - 1  # the column is a 32-bit integer

# The order's vocabulary, spelled as workflows/contracts.py's enums spell it (tests/unit pins
# them equal): the HTTP models never import the payloads.
OrderStatusName = Literal[
    "pending",
    "on_hold",
    "backordered",
    "reserved",
    "picked",
    "packed",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "failed",
]
HoldReason = Literal["fraud_review", "address_verification", "payment_review", "customer_request"]
SupportActionName = Literal["change", "hold", "release", "cancel"]
ReturnAuditActionName = Literal[
    "return_request", "return_approve", "return_decline", "return_receive", "return_cancel", "claim"
]
# An audit row's action: a support action on the order, or one on its returns and claims.
AuditActionName = Literal[SupportActionName, ReturnAuditActionName]
AuditOutcomeName = Literal["accepted", "refused"]

Text = Annotated[str, Field(min_length=1, max_length=200)]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
# A sales channel (a storefront): letters, digits, `.`, `_`, `-`.
Channel = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE"])]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]  # serialized with a trailing Z


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, numbers must be JSON integers, and text must
    not hold NUL (PostgreSQL cannot store it, and a support action's text is stored by the order's
    workflow, after the answer: refused here, it never gets that far)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000)")
        return value


def _opaque(customer_id: str) -> str:
    """A customer id is the shop's opaque key: Temporal indexes it in plain text (CustomerId)."""
    if "@" in customer_id:
        raise ValueError("must be an opaque id, not an email: it is indexed in plain text")
    return customer_id


CustomerId = Annotated[
    str,
    Field(min_length=1, max_length=128, description="The shop's opaque id (no `@`: no emails)"),
    AfterValidator(_opaque),
]


class Customer(Strict):
    id: CustomerId
    email: Email
    name: Text


class Address(Strict):
    name: Text
    line1: Text
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Text
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]
    country: Country


# A VAT rate in percent, as a decimal string: "19", "7", "25.5".
TaxRate = Annotated[str, Field(pattern=r"^\d{1,2}(\.\d{1,2})?$", examples=["19"])]


class Line(Strict):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unit_price: Annotated[int, Field(ge=0, le=MAX_UNIT_PRICE)]  # gross: tax included
    tax_rate: TaxRate | None = None  # unset: the shipping country's standard rate


class LinePublic(BaseModel):
    """An order line as shown: `returned` counts the units its returns received back."""

    sku: str
    quantity: int
    unit_price: int
    tax_rate: str | None
    returned: int = 0


class Payment(Strict):
    """A card token, store credit (minor units of the order's currency), or both."""

    token: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    store_credit: Annotated[int, Field(ge=1, le=MAX_UNIT_PRICE * MAX_LINES)] | None = None


class OrderCreate(Strict):
    """A new order as the storefront places it."""

    customer: Customer
    shipping_address: Address
    lines: Annotated[list[Line], Field(min_length=1, max_length=MAX_LINES)]
    currency: Currency
    payment: Payment
    # A storefront key's own channel (it may repeat it); an admin key must name one.
    channel: Channel | None = None


class ShipmentPublic(BaseModel):
    id: str
    carrier: str
    tracking_number: str
    status: str


class HistoryPublic(BaseModel):
    status: OrderStatusName
    at: UtcDatetime
    reason: str | None
    actor: str


PaymentStatusName = Literal[
    "pending", "authorized", "captured", "partially_refunded", "refunded", "voided", "failed"
]
RefundStatusName = Literal["pending", "succeeded", "failed"]
RefundMethodName = Literal["original_payment", "store_credit"]
DocumentKindName = Literal["invoice", "credit_note"]


class PaymentPublic(BaseModel):
    """The order's money: `authorized` and `captured` on the card, `refunded` in all (to the
    card or as store credit), `store_credit` the part of the total paid with credit."""

    status: PaymentStatusName
    authorized: int
    captured: int
    refunded: int
    store_credit: int


class DocumentSummary(BaseModel):
    number: str
    kind: DocumentKindName
    total: int
    issued_at: UtcDatetime


class RefundSummary(BaseModel):
    id: str
    status: RefundStatusName
    amount: int
    method: RefundMethodName


ReturnStatusName = Literal[
    "requested",
    "approved",
    "declined",
    "awaiting_receipt",
    "received",
    "completed",
    "expired",
    "cancelled",
]


class ReturnSummary(BaseModel):
    """A return or claim of the order: `GET /v1/returns/{id}` or `/v1/claims/{id}` has it all."""

    id: str
    status: ReturnStatusName


class OrderPublic(BaseModel):
    """An order as the read model shows it."""

    id: str
    status: OrderStatusName
    status_reason: str | None
    channel: str
    customer: Customer
    shipping_address: Address
    lines: list[LinePublic]
    currency: str
    total: int
    shipments: list[ShipmentPublic]
    history: list[HistoryPublic]
    created_at: UtcDatetime
    updated_at: UtcDatetime
    payment: PaymentPublic | None  # null: placed before the OMS kept payment records
    invoices: list[DocumentSummary]  # invoices and credit notes, in issue order
    refunds: list[RefundSummary]
    returns: list[ReturnSummary] = []
    claims: list[ReturnSummary] = []
    exchange_for: str | None = None  # an exchange's or reship's order: the order it replaces
    placed_by_return: str | None = None  # ... and the return or claim that placed it


class OrdersPublic(BaseModel):
    """One page of orders, newest first; pass `next_cursor` back as `cursor` for the next one."""

    items: list[OrderPublic]
    next_cursor: str | None


# The agent's own name for themselves: kept as a label beside the authenticated caller.
Agent = Annotated[str, Field(min_length=1, max_length=128)]


class CancelCreate(Strict):
    """A request to cancel an order."""

    reason: Text
    requested_by: Agent | None = None


Note = Annotated[str, Field(min_length=1, max_length=500)]


class LineChange(Strict):
    """A line's new quantity (0 removes it); a SKU not on the order adds a line at `unit_price`."""

    sku: Sku
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
    unit_price: Annotated[int, Field(ge=0, le=MAX_UNIT_PRICE)] | None = None


class ChangeCreate(Strict):
    """A support change: a new shipping address and/or new line quantities. Lines not named stay."""

    shipping_address: Address | None = None
    lines: Annotated[list[LineChange], Field(min_length=1, max_length=MAX_LINES)] | None = None
    requested_by: Agent | None = None
    reason: Note | None = None


class HoldCreate(Strict):
    """Stop the order before its next step until it is released."""

    reason_code: HoldReason
    note: Note | None = None
    requested_by: Agent | None = None


class ReleaseCreate(Strict):
    """Let a held order continue where it stopped."""

    requested_by: Agent | None = None
    note: Note | None = None


class AuditPublic(BaseModel):
    """One support action on an order, as asked and as answered. Never changed once written."""

    id: int
    at: UtcDatetime
    action: AuditActionName
    requested_by: str  # the authenticated caller: `key:<name>` or `user:<name>`
    label: str | None  # the body's `requested_by`, as the caller named the agent
    request: dict[str, object]
    outcome: AuditOutcomeName
    detail: str | None


class StockSet(Strict):
    """A stock count: the new on-hand quantity."""

    on_hand: Annotated[int, Field(ge=0, le=MAX_STOCK)]


class StockAdjustment(Strict):
    """A change of on-hand stock: positive for a receipt, negative for shrinkage."""

    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK)]
    reason: Text


class StockPublic(BaseModel):
    """Stock of one SKU; `available` is what new orders can reserve."""

    sku: str
    on_hand: int
    reserved: int
    available: int
    damaged: int = 0  # returned broken: written off, never sellable


class HealthPublic(BaseModel):
    """Whether the API and each dependency answer."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    temporal: Literal["ok", "unavailable"]


class Problem(BaseModel):
    """The body of every error answer other than 422."""

    detail: str


RoleName = Literal["storefront", "support", "warehouse", "ops", "admin"]


class ApiKeyCreate(Strict):
    """A new API key: who it is for, what it may do, until when (never, if not given)."""

    name: Annotated[str, Field(min_length=1, max_length=128)]
    role: RoleName
    channel: Channel | None = None  # a storefront key's channel; other roles take none
    expires_at: UtcDatetime | None = None


class ApiKeyPublic(BaseModel):
    """An API key as listed: never its secret."""

    id: str
    name: str
    role: RoleName
    channel: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None


class ApiKeyCreated(ApiKeyPublic):
    """The answer to creating a key: the only time `key` is shown. Store it now."""

    key: str


class ApiKeysPublic(BaseModel):
    items: list[ApiKeyPublic]
