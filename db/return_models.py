"""The rows of returns and claims (db/migrations/versions/0006_returns.py owns their schema)."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Timestamp


class ReturnRecord(Base):
    """A return (`kind` "return": parcel back, then the resolution) or a claim ("claim": the
    resolution at once, nothing comes back). Kept current by the return's workflow."""

    __tablename__ = "returns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    resolution: Mapped[str] = mapped_column(String(16))
    claim_type: Mapped[str | None] = mapped_column(String(24), default=None)
    advance: Mapped[bool] = mapped_column(default=False)
    exchange_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    exchange_order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), default=None)
    label_carrier: Mapped[str | None] = mapped_column(Text, default=None)
    label_tracking_number: Mapped[str | None] = mapped_column(Text, default=None)
    label_shipment_id: Mapped[str | None] = mapped_column(Text, default=None)
    receive_by: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    requested_by: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)  # seq of the last history row
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)

    lines: Mapped[list["ReturnLineRecord"]] = relationship(
        order_by="ReturnLineRecord.line_no", lazy="raise"
    )
    history: Mapped[list["ReturnHistoryRecord"]] = relationship(
        order_by="ReturnHistoryRecord.seq", lazy="raise"
    )


class ReturnLineRecord(Base):
    """Units of one SKU asked back, at the order's price; what arrived, by condition."""

    __tablename__ = "return_lines"

    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    resellable: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)


class ReturnHistoryRecord(Base):
    __tablename__ = "return_history"

    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class ReturnReceiptRecord(Base):
    """One scan at the warehouse, keyed by its request id: a retried receipt adds nothing."""

    __tablename__ = "return_receipts"

    request_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    received_by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)
