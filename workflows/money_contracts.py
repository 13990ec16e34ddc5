"""Temporal payloads of the money side: store credit held by an order, the invoice issued at
capture, and the refund workflow (`refund-{id}`). Fields are only added, with defaults."""

from dataclasses import dataclass
from enum import StrEnum

# The refund workflows' search attributes (RefundStatus, OrderId) are in workflows/contracts.py
# with the orders': one tuple registers them all.


def refund_workflow_id(refund_id: str) -> str:
    """The one way to name a refund's workflow."""
    return f"refund-{refund_id}"


class RefundMethod(StrEnum):
    ORIGINAL_PAYMENT = "original_payment"  # back to the card the order was paid with
    STORE_CREDIT = "store_credit"  # as store credit of the order's customer


class RefundStatus(StrEnum):
    PENDING = "pending"  # claimed: counts against what is refundable until it ends
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentStatus(StrEnum):
    """An order's money, as its `payment.status` says."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"


class MoneyError(StrEnum):
    """The `type` of the money activities' business failures (non-retryable ApplicationErrors)."""

    STORE_CREDIT_INSUFFICIENT = "StoreCreditInsufficient"
    REFUND_DECLINED = "RefundDeclined"


@dataclass(frozen=True, kw_only=True)
class HoldStoreCreditInput:
    """Hold `amount` of the customer's credit for the order (idempotent per order)."""

    order_id: str
    customer_id: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class InvoiceResult:
    """The invoice issued for an order at capture (the same one on every retry)."""

    number: str


@dataclass(frozen=True, kw_only=True)
class RefundInput:
    """A claimed refund (its row is `pending`): the workflow pays it out or gives it back."""

    refund_id: str
    order_id: str
    amount: int
    currency: str
    method: RefundMethod


@dataclass(frozen=True, kw_only=True)
class RefundResult:
    refund_id: str
    status: RefundStatus
    failure_reason: str | None = None
    credit_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefundPaymentInput:
    """Give `amount` back to the order's card; idempotency key `{refund_id}:refund`."""

    refund_id: str
    order_id: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class RefundRef:
    refund_id: str


@dataclass(frozen=True, kw_only=True)
class CompleteRefundResult:
    """The credit note the succeeded refund was issued."""

    credit_note: str


@dataclass(frozen=True, kw_only=True)
class FailRefundInput:
    """End the refund `failed` with the gateway's reason: its claim is given back."""

    refund_id: str
    reason: str
