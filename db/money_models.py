"""The money rows (migration 0005): payments and their transactions, refunds, store credit,
issued documents and their counters, the journal, tax rates. Ledgers and issued documents are
append-only (triggers)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Timestamp


class TaxRateRecord(Base):
    """The standard VAT rate of a shipping country, in percent."""

    __tablename__ = "tax_rates"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class PaymentRecord(Base):
    """An order's money as the OMS knows it; each transaction updates it in its transaction."""

    __tablename__ = "payments"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    authorized: Mapped[int] = mapped_column(BigInteger, default=0)  # on the card, held now
    captured: Mapped[int] = mapped_column(BigInteger, default=0)  # from the card
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)  # to the card or as credit
    store_credit: Mapped[int] = mapped_column(BigInteger, default=0)  # applied to the order
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class PaymentTransactionRecord(Base):
    """One call to the gateway and its outcome. Append-only; unique by idempotency key."""

    __tablename__ = "payment_transactions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(16))
    gateway_reference: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class RefundRecord(Base):
    """Money given back for an order. `pending` is the claim: it counts against what is
    refundable until it succeeds or fails."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    credit_note: Mapped[str | None] = mapped_column(String(32), default=None)
    requested_by: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    return_id: Mapped[str | None] = mapped_column(String(64), default=None)  # a return's or claim's
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class StoreCreditAccountRecord(Base):
    """A customer's store credit in one currency: the sum of its entries, never below zero."""

    __tablename__ = "store_credit_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="store_credit_accounts_balance_check"),)

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class StoreCreditEntryRecord(Base):
    """One change of store credit: issued, held (by an order), redeemed, released."""

    __tablename__ = "store_credit_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    delta: Mapped[int] = mapped_column(BigInteger)  # the balance's change
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), default=None)
    refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


class DocumentCounterRecord(Base):
    """The last number issued in a series and year, locked by the transaction issuing the next."""

    __tablename__ = "document_counters"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class DocumentRecord(Base):
    """An issued invoice or credit note, as it was issued: never changed (a trigger)."""

    __tablename__ = "documents"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    series: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"), default=None)
    refers_to: Mapped[str | None] = mapped_column(ForeignKey("documents.number"), default=None)
    issued_at: Mapped[datetime] = mapped_column(Timestamp)
    currency: Mapped[str] = mapped_column(String(3))
    seller: Mapped[dict[str, Any]] = mapped_column(JSONB)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    tax_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    net_total: Mapped[int] = mapped_column(BigInteger)
    tax_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    paid_card: Mapped[int] = mapped_column(BigInteger)
    paid_store_credit: Mapped[int] = mapped_column(BigInteger)


class JournalEntryRecord(Base):
    """One balanced double-entry booking (its lines' debits equal their credits)."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[str | None] = mapped_column(String(64), default=None)
    refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    document: Mapped[str | None] = mapped_column(String(32), default=None)
    customer_id: Mapped[str | None] = mapped_column(String(128), default=None)
    description: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    at: Mapped[datetime] = mapped_column(Timestamp)

    lines: Mapped[list["JournalLineRecord"]] = relationship(
        order_by="JournalLineRecord.id", lazy="raise"
    )


class JournalLineRecord(Base):
    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    account: Mapped[str] = mapped_column(String(64))
    debit: Mapped[int] = mapped_column(BigInteger, default=0)
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
