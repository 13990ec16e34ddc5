"""Temporal payloads of returns (`return-{id}`) and the vocabulary of returns and claims.
Fields are only added, with defaults: they live in workflow history."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The return workflows' search attributes: ReturnStatus here, OrderId and CustomerId shared with
# the orders' and refunds' (workflows/contracts.py registers them all in one tuple).


def return_workflow_id(return_id: str) -> str:
    """The one way to name a return's workflow."""
    return f"return-{return_id}"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"  # waiting for support's decision (or the automatic approval)
    APPROVED = "approved"
    DECLINED = "declined"
    AWAITING_RECEIPT = "awaiting_receipt"  # a label was issued: the parcel is on its way
    RECEIVED = "received"  # everything expected arrived; the resolution follows
    COMPLETED = "completed"
    EXPIRED = "expired"  # nothing arrived within the receive window
    CANCELLED = "cancelled"


RETURN_TERMINAL = frozenset(
    {ReturnStatus.DECLINED, ReturnStatus.COMPLETED, ReturnStatus.EXPIRED, ReturnStatus.CANCELLED}
)
# Statuses in which the asked units still count as being returned (not given back to the order).
RETURN_OPEN = frozenset(
    {
        ReturnStatus.REQUESTED,
        ReturnStatus.APPROVED,
        ReturnStatus.AWAITING_RECEIPT,
        ReturnStatus.RECEIVED,
    }
)


class ReturnKind(StrEnum):
    RETURN = "return"
    CLAIM = "claim"


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class Resolution(StrEnum):
    REFUND = "refund"  # to the original payment
    STORE_CREDIT = "store_credit"
    EXCHANGE = "exchange"  # a new order for the exchange lines (returns only)
    RESHIP = "reship"  # a zero-priced replacement order (claims only)


class ClaimType(StrEnum):
    MISSING = "missing"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"


class Condition(StrEnum):
    RESELLABLE = "resellable"  # back on the shelf (a `return_restock` movement)
    DAMAGED = "damaged"  # written off into the SKU's damaged count


class ReturnAction(StrEnum):
    """The Updates of a return's workflow, each also an action in the order's audit trail."""

    APPROVE = "approve"
    DECLINE = "decline"
    RECEIVE = "receive"
    CANCEL = "cancel"


class ReturnAuditAction(StrEnum):
    """A return's or claim's action as the order's audit trail names it (`order_audit.action`,
    at most 16 characters), beside the order's support actions."""

    RETURN_REQUEST = "return_request"
    RETURN_APPROVE = "return_approve"
    RETURN_DECLINE = "return_decline"
    RETURN_RECEIVE = "return_receive"
    RETURN_CANCEL = "return_cancel"
    CLAIM = "claim"


class ReturnError(StrEnum):
    """The `type` of the return activities' business failures."""

    NOT_REFUNDABLE = "ReturnNotRefundable"


@dataclass(frozen=True, kw_only=True)
class ReturnLine:
    sku: str
    quantity: int
    unit_price: int  # what the customer paid per unit (the order line's price)


@dataclass(frozen=True, kw_only=True)
class ReturnInput:
    """Everything the return's workflow needs; the row (status `requested`) is written first."""

    return_id: str
    order_id: str
    customer_id: str
    currency: str
    resolution: Resolution
    lines: list[ReturnLine]
    advance: bool = False  # an exchange whose replacement ships before the parcel arrives
    auto_approve: bool = True
    receive_window_s: float = 14 * 24 * 3600  # from the label to the parcel's arrival


@dataclass(frozen=True, kw_only=True)
class ReturnDecision:
    """Approve, decline or cancel: who asked, and why (a decline's reason is required)."""

    request_id: str
    requested_by: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReceivedLine:
    sku: str
    quantity: int
    condition: Condition


@dataclass(frozen=True, kw_only=True)
class ReceiveRequest:
    """One scan at the warehouse; partial receipts add up."""

    request_id: str
    requested_by: str
    lines: list[ReceivedLine]


@dataclass(frozen=True, kw_only=True)
class ReturnAnswer:
    status: ReturnStatus


@dataclass(frozen=True, kw_only=True)
class ReturnResult:
    return_id: str
    status: ReturnStatus
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReturnHistoryEntry:
    status: ReturnStatus
    at: datetime
    reason: str | None = None
    actor: str = "workflow"


@dataclass(frozen=True, kw_only=True)
class ReturnLabel:
    carrier: str
    tracking_number: str
    shipment_id: str


@dataclass(frozen=True, kw_only=True)
class ReturnRef:
    return_id: str


@dataclass(frozen=True, kw_only=True)
class RecordReturnStatusInput:
    """One transition for the read model; `seq` makes the write idempotent under retries."""

    return_id: str
    seq: int
    entry: ReturnHistoryEntry
    label: ReturnLabel | None = None
    receive_by: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReceiveUnitsInput:
    """Book one receipt: resellable units back on the shelf, damaged ones written off."""

    return_id: str
    request_id: str
    received_by: str
    lines: list[ReceivedLine]


@dataclass(frozen=True, kw_only=True)
class ReceiveUnitsResult:
    restocked_skus: list[str] = field(default_factory=list)  # orders waiting for them wake up


@dataclass(frozen=True, kw_only=True)
class ResolveReturnInput:
    """Carry out the resolution for what arrived; `advance`: place the exchange's replacement
    now, before the parcel (its payment waits for the return: `SettleReturnInput`)."""

    return_id: str
    advance: bool = False


@dataclass(frozen=True, kw_only=True)
class ResolveReturnResult:
    refund_ids: list[str] = field(default_factory=list)
    exchange_order_id: str | None = None
    note: str | None = None  # what could not be done, in words (the history's reason)


@dataclass(frozen=True, kw_only=True)
class ReturnSettled:
    """To an advance exchange's order: the return ended; `covered` of its total is paid by the
    returned goods (held as store credit for it), the card pays the rest."""

    return_id: str
    covered: int


@dataclass(frozen=True, kw_only=True)
class SettleReturnInput:
    """An advance exchange's return ended: credit what arrived, tell the replacement order."""

    return_id: str
