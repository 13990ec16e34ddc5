"""The rows of the integration module (migration 0007): the event outbox, webhook endpoints and
their deliveries, customer e-mails, and the customer view."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamp


class EventRecord(Base):
    """One business fact, written in the transaction of its change. Never updated."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # The writing transaction's id (the feed's order: db/events.py).
    tx: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text::bigint)")
    )
    type: Mapped[str] = mapped_column(String(64))
    aggregate: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3, ... per aggregate
    occurred_at: Mapped[datetime] = mapped_column(
        Timestamp, server_default=text("statement_timestamp()")
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class EventStreamRecord(Base):
    """The last sequence number an aggregate's events took."""

    __tablename__ = "event_streams"

    aggregate: Mapped[str] = mapped_column(String(32), primary_key=True)
    aggregate_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)


class RelayCursorRecord(Base):
    """How far the relay has fanned the events out to deliveries and e-mails."""

    __tablename__ = "relay_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tx: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=text("now()"))


class WebhookEndpointRecord(Base):
    """A subscriber: where to POST which events, and the secret to sign them with (sealed)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text, default=None)
    previous_until: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    disabled: Mapped[bool] = mapped_column(default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class WebhookDeliveryRecord(Base):
    """One event to one endpoint (`origin` "live", or the replay that sent it again)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    origin: Mapped[str] = mapped_column(String(64), default="live")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    started: Mapped[bool] = mapped_column(default=False)  # handed off: done, or to a workflow
    claimed_until: Mapped[datetime | None] = mapped_column(Timestamp, default=None)  # a relay's
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    succeeded_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class WebhookAttemptRecord(Base):
    """One POST of a delivery and how it ended."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    response: Mapped[str | None] = mapped_column(Text, default=None)


class NotificationRecord(Base):
    """A customer e-mail: recorded (with its Message-ID) before it is sent, once per
    (order, kind, event)."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    to_address: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(Text, unique=True)
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    started: Mapped[bool] = mapped_column(default=False)  # handed off: sent, or to a workflow
    claimed_until: Mapped[datetime | None] = mapped_column(Timestamp, default=None)  # a relay's
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class CustomerRecord(Base):
    """What a CRM reads about a customer, kept current by the transactions that change it."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    last_order_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class CustomerSpendRecord(Base):
    """A customer's money in one currency: invoiced, and credited back by credit notes."""

    __tablename__ = "customer_spend"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    invoiced: Mapped[int] = mapped_column(BigInteger, default=0)
    credited: Mapped[int] = mapped_column(BigInteger, default=0)
