"""What the money side should do, in a few dictionaries: the oracle of the stateful money test.

It mirrors the contract of db/refunds.py and db/store_credit.py, not their code: an order's
store credit is held when it is placed (a 409 at once when the balance is short), given back
when it is cancelled and kept when it completes; a refund is claimed only for an order that was
invoiced, for no more units than shipped less those refunded or being refunded, no more than the
total less what is refunded or being refunded, and, to the card, no more than the card paid less
the card's refunds. A card refund of a `tok_refund_declined` order fails and frees its claim;
every other claimed refund succeeds, and one as store credit adds to the customer's balance.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

REFUND_DECLINED = "tok_refund_declined"
CARD, CREDIT = "original_payment", "store_credit"


class OrderState(StrEnum):
    WAITING = "backordered"  # in flight: its store credit is held, nothing is captured
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Refusal(StrEnum):
    """Why a refund is refused (409), by the words its reason says it with."""

    NOT_CAPTURED = "nothing has been captured"
    UNITS = "is more than can be refunded"
    REFUNDABLE = "is more than is refundable"
    CARD = "is more than the card can get back"


class RefundState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Line:
    quantity: int
    unit_price: int


@dataclass(kw_only=True)
class Refund:
    amount: int
    method: str
    units: Mapping[str, int]  # sku -> quantity; empty for a refund of a sum
    state: RefundState = RefundState.PENDING

    @property
    def claimed(self) -> bool:
        return self.state is not RefundState.FAILED


@dataclass(kw_only=True)
class Order:
    customer: str
    lines: Mapping[str, Line]
    credit: int  # the part of the total paid with store credit
    token: str | None
    state: OrderState
    refunds: dict[str, Refund] = field(default_factory=dict)  # in the order they were claimed

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines.values())

    @property
    def card(self) -> int:
        return self.total - self.credit

    def claimed(self, method: str | None = None) -> int:
        """Refunded or being refunded (by `method`, if given)."""
        return sum(
            r.amount for r in self.refunds.values() if r.claimed and method in (None, r.method)
        )

    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values() if r.state is RefundState.SUCCEEDED)

    def units_left(self, sku: str) -> int:
        claimed = sum(r.units.get(sku, 0) for r in self.refunds.values() if r.claimed)
        return self.lines[sku].quantity - claimed

    def payment_status(self) -> str:
        """What `payment.status` says of a completed order."""
        refunded = self.refunded()
        if refunded == 0:
            return "captured"
        return "refunded" if refunded >= self.total else "partially_refunded"


@dataclass
class MoneyModel:
    """Customers' store credit balances and every order with its refunds."""

    balances: dict[str, int] = field(default_factory=dict)  # customer -> EUR balance
    orders: dict[str, Order] = field(default_factory=dict)

    def grant(self, customer: str, amount: int) -> None:
        self.balances[customer] = self.balances.get(customer, 0) + amount

    def can_pay(self, customer: str, credit: int) -> bool:
        """The API's check at placement: the balance covers the credit asked for."""
        return credit <= self.balances.get(customer, 0)

    def place(self, order_id: str, order: Order) -> None:
        """Placed and moved to `order.state`: its credit is held (then redeemed, if completed)."""
        self.balances[order.customer] = self.balances.get(order.customer, 0) - order.credit
        self.orders[order_id] = order

    def cancel(self, order_id: str) -> bool:
        """True when the cancel is accepted: only an order still in flight stops."""
        order = self.orders[order_id]
        if order.state is not OrderState.WAITING:
            return False
        order.state = OrderState.CANCELLED
        self.grant(order.customer, order.credit)  # the hold is released
        return True

    def complete(self, order_id: str) -> None:
        self.orders[order_id].state = OrderState.COMPLETED

    def refusal(self, order_id: str, ask: Refund) -> Refusal | None:
        """Why the refund would be refused, in the order db/refunds.claim checks; None: claimed."""
        order = self.orders[order_id]
        if order.state is not OrderState.COMPLETED:
            return Refusal.NOT_CAPTURED
        if any(quantity > order.units_left(sku) for sku, quantity in ask.units.items()):
            return Refusal.UNITS
        if ask.amount > order.total - order.claimed():
            return Refusal.REFUNDABLE
        if ask.method == CARD and ask.amount > order.card - order.claimed(CARD):
            return Refusal.CARD
        return None

    def claim(self, order_id: str, refund_id: str, ask: Refund) -> None:
        self.orders[order_id].refunds[refund_id] = ask

    def settle(self, order_id: str, refund_id: str) -> RefundState:
        """The refund's workflow ran: how it ends, and what that did to the balance."""
        order = self.orders[order_id]
        refund = order.refunds[refund_id]
        declined = refund.method == CARD and order.token == REFUND_DECLINED
        refund.state = RefundState.FAILED if declined else RefundState.SUCCEEDED
        if refund.state is RefundState.SUCCEEDED and refund.method == CREDIT:
            self.grant(order.customer, refund.amount)
        return refund.state

    def will_fail(self, order_id: str, ask: Refund) -> bool:
        """A claim that will be given back (a declined card refund)."""
        return ask.method == CARD and self.orders[order_id].token == REFUND_DECLINED
