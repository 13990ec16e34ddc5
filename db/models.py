"""SQLAlchemy rows. Alembic (db/migrations) owns the schema; these mirror it."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Timestamp


class InventoryRecord(Base):
    """Stock of one SKU. The CHECK makes overselling impossible whatever the code does."""

    __tablename__ = "inventory_items"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)  # returned broken: never sellable
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class MovementRecord(Base):
    """Append-only: every change of `on_hand`, with who and why. Their sum is `on_hand`."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_sku", "sku", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(ForeignKey("inventory_items.sku"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)  # the authenticated principal (key:…, user:…)
    label: Mapped[str | None] = mapped_column(Text, default=None)  # X-Actor: the caller's own
    order_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # `sellable` stock (the sum is on_hand) or `damaged` (the sum is the damaged count).
    stock: Mapped[str] = mapped_column(String(8), default="sellable")
    return_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class ReservationRecord(Base):
    """Stock held for an order: `open` until `released` (compensation) or `shipped`."""

    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_open_sku", "sku", postgresql_where="status = 'open'"),)

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("inventory_items.sku"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class OrderRecord(Base):
    """The read model of one order, kept current by the workflow; outlives workflow retention."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
        Index("ix_orders_channel_created", "channel", "created_at", "id"),
        Index("ix_orders_channel_idempotency_key", "channel", "idempotency_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128))
    customer_email: Mapped[str] = mapped_column(Text)
    customer_name: Mapped[str] = mapped_column(Text)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    payment_token: Mapped[str] = mapped_column(Text)  # empty when store credit pays it all
    store_credit: Mapped[int] = mapped_column(BigInteger, default=0)  # of the total, by credit
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The storefront (sales channel) that placed it; its keys see only its own orders.
    channel: Mapped[str] = mapped_column(String(64), server_default="default")
    # Unique per channel: two storefronts' keys never meet (ix_orders_channel_idempotency_key).
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)  # seq of the last history row applied
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    # An exchange's or reship's order: the order it replaces, and the return or claim that
    # placed it (unique: one per return). `awaits_return`: an advance exchange, captured once
    # its return arrives or expires.
    exchange_for: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), default=None)
    placed_by_return: Mapped[str | None] = mapped_column(
        ForeignKey("returns.id", use_alter=True), default=None
    )
    awaits_return: Mapped[bool] = mapped_column(default=False)
    late_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)  # OMS_SHIP_SLA passed

    lines: Mapped[list["OrderLineRecord"]] = relationship(
        order_by="OrderLineRecord.line_no", lazy="raise"
    )
    history: Mapped[list["HistoryRecord"]] = relationship(
        order_by="HistoryRecord.seq", lazy="raise"
    )
    shipments: Mapped[list["ShipmentRecord"]] = relationship(lazy="raise")
    payment: Mapped["PaymentRecord | None"] = relationship(lazy="raise")
    documents: Mapped[list["DocumentRecord"]] = relationship(
        order_by="DocumentRecord.issued_at", lazy="raise"
    )
    refunds: Mapped[list["RefundRecord"]] = relationship(
        order_by="RefundRecord.created_at", lazy="raise"
    )
    returns: Mapped[list["ReturnRecord"]] = relationship(
        order_by="ReturnRecord.created_at",
        lazy="raise",
        primaryjoin="OrderRecord.id == ReturnRecord.order_id",
        foreign_keys="ReturnRecord.order_id",
    )


# Support finds orders by the customer's email, whatever its case.
Index("ix_orders_email", func.lower(OrderRecord.customer_email))


class OrderLineRecord(Base):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_sku", "sku"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), default=None)


class HistoryRecord(Base):
    """One transition of an order; (order_id, seq) makes the workflow's write idempotent."""

    __tablename__ = "order_history"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class AuditRecord(Base):
    """One support action (change, hold, release, cancel) as asked and as answered.

    Append-only: a trigger refuses UPDATE and DELETE. (request_id, outcome) makes the writers
    (the workflow for what it decided, the API for what never reached it) idempotent.
    """

    __tablename__ = "order_audit"
    __table_args__ = (Index("ix_order_audit_request", "request_id", "outcome", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(Text)  # the authenticated principal
    label: Mapped[str | None] = mapped_column(Text, default=None)  # the body's requested_by
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(Timestamp)


class ShipmentRecord(Base):
    """The order's shipments as the read model shows them."""

    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(Text)
    tracking_number: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))


# The simulated outside world keeps its own books here, as a real gateway, WMS or carrier would.


class SimPaymentRecord(Base):
    """One payment operation at the simulated gateway; the idempotency key makes retries free."""

    __tablename__ = "sim_payments"

    idempotency_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    token: Mapped[str | None] = mapped_column(Text, default=None)  # an authorization's card
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class SimWarehouseRecord(Base):
    """A pick list or a package at the simulated warehouse: one of each per order."""

    __tablename__ = "sim_warehouse_tasks"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class SimShipmentRecord(Base):
    """A label at the simulated carrier: one per order, delivered after a delay."""

    __tablename__ = "sim_shipments"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(String(64), unique=True)
    carrier: Mapped[str] = mapped_column(Text)
    tracking_number: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    deliver_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


# The money rows (db/money_models.py), importable from here like every row: OrderRecord's
# relationships name them.
from db.integration_models import (  # noqa: E402
    CustomerRecord,
    CustomerSpendRecord,
    EventRecord,
    EventStreamRecord,
    NotificationRecord,
    RelayCursorRecord,
    WebhookAttemptRecord,
    WebhookDeliveryRecord,
    WebhookEndpointRecord,
)
from db.money_models import (  # noqa: E402
    DocumentCounterRecord,
    DocumentRecord,
    JournalEntryRecord,
    JournalLineRecord,
    PaymentRecord,
    PaymentTransactionRecord,
    RefundRecord,
    StoreCreditAccountRecord,
    StoreCreditEntryRecord,
    TaxRateRecord,
)
from db.return_models import (  # noqa: E402
    ReturnHistoryRecord,
    ReturnLineRecord,
    ReturnReceiptRecord,
    ReturnRecord,
)

__all__ = [
    "CustomerRecord",
    "CustomerSpendRecord",
    "DocumentCounterRecord",
    "DocumentRecord",
    "EventRecord",
    "EventStreamRecord",
    "JournalEntryRecord",
    "JournalLineRecord",
    "NotificationRecord",
    "PaymentRecord",
    "PaymentTransactionRecord",
    "RefundRecord",
    "RelayCursorRecord",
    "ReturnHistoryRecord",
    "ReturnLineRecord",
    "ReturnReceiptRecord",
    "ReturnRecord",
    "StoreCreditAccountRecord",
    "StoreCreditEntryRecord",
    "TaxRateRecord",
    "WebhookAttemptRecord",
    "WebhookDeliveryRecord",
    "WebhookEndpointRecord",
]
