"""Pure order rules: the transition table, totals, cancellability. No I/O, safe in workflows."""

from collections.abc import Iterable

from workflows.contracts import OrderLine, OrderStatus

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.BACKORDERED, S.RESERVED, S.CANCELLED, S.FAILED}),
    S.BACKORDERED: frozenset({S.RESERVED, S.CANCELLED, S.FAILED}),
    S.RESERVED: frozenset({S.PICKED, S.CANCELLED, S.FAILED}),
    S.PICKED: frozenset({S.PACKED, S.CANCELLED, S.FAILED}),
    S.PACKED: frozenset({S.SHIPPED, S.CANCELLED, S.FAILED}),
    # Past this point the goods have left: no cancellation, only returns (a later feature).
    S.SHIPPED: frozenset({S.DELIVERED, S.COMPLETED, S.FAILED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL = frozenset(status for status, moves in TRANSITIONS.items() if not moves)


class IllegalTransition(ValueError):
    """A move the transition table does not allow: a bug in the workflow, never a user error."""


def check_transition(current: OrderStatus, new: OrderStatus) -> None:
    """Raise unless `current -> new` is in the table."""
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"{current} -> {new} is not an allowed transition")


def is_cancellable(status: OrderStatus) -> bool:
    """Cancellation is possible while the order can still move to `cancelled`."""
    return S.CANCELLED in TRANSITIONS[status]


def cancel_refusal(status: OrderStatus, shipping: bool) -> str | None:
    """Why a cancel request must be refused now, or None when it can be accepted."""
    if status in TERMINAL:
        return f"order is already {status}"
    if shipping or not is_cancellable(status):
        where = "being shipped" if status is S.PACKED else status
        return f"order is {where}: too late to cancel, request a return"
    return None


def order_total(lines: Iterable[OrderLine]) -> int:
    """Total in minor units: the sum of quantity × unit price."""
    return sum(line.quantity * line.unit_price for line in lines)


ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def format_money(amount: int, currency: str) -> str:
    """Minor units for people: 3998 EUR -> '39.98 EUR', 500 JPY -> '500 JPY'."""
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{amount} {currency}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"
