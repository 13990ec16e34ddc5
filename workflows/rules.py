"""Pure order rules: the transition table, totals, what support may do when. No I/O, safe in
workflows: the refusals read an OrderProgress and say why, or return None."""

from collections.abc import Iterable, Sequence
from typing import Protocol

from workflows.contracts import ChangeRequest, LineChange, OrderInput, OrderLine, OrderStatus
from workflows.progress import OrderProgress

S = OrderStatus

# A hold can stop an order anywhere before it ships; a release returns it where it was.
HOLDABLE = frozenset({S.PENDING, S.BACKORDERED, S.RESERVED, S.PICKED, S.PACKED})

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.BACKORDERED, S.RESERVED, S.ON_HOLD, S.CANCELLED, S.FAILED}),
    S.ON_HOLD: HOLDABLE | {S.CANCELLED},
    S.BACKORDERED: frozenset({S.RESERVED, S.ON_HOLD, S.CANCELLED, S.FAILED}),
    S.RESERVED: frozenset({S.PICKED, S.ON_HOLD, S.CANCELLED, S.FAILED}),
    S.PICKED: frozenset({S.PACKED, S.ON_HOLD, S.CANCELLED, S.FAILED}),
    S.PACKED: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED, S.FAILED}),
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


# Lines can change until the warehouse starts picking them.
LINES_CHANGEABLE = frozenset({S.PENDING, S.BACKORDERED, S.RESERVED})


class InvalidChange(ValueError):
    """A change that makes no sense for this order (its reason is the message)."""


def merge_lines(lines: Sequence[OrderLine], changes: Sequence[LineChange]) -> list[OrderLine]:
    """The order's lines after `changes`: new quantities, 0 removes, a new SKU is appended.

    Raises InvalidChange for a new SKU without a price, a changed price, or no line left."""
    merged = {line.sku: line for line in lines}
    for change in changes:
        current = merged.get(change.sku)
        price = change.unit_price if current is None else current.unit_price
        if change.unit_price is not None and change.unit_price != price:
            raise InvalidChange(f"the price of {change.sku} cannot be changed")
        if change.quantity == 0:
            merged.pop(change.sku, None)
        elif price is None:
            raise InvalidChange(f"{change.sku} is not on the order: give its unit_price")
        else:
            rate = None if current is None else current.tax_rate  # a new line: the country's
            line = OrderLine(
                sku=change.sku, quantity=change.quantity, unit_price=price, tax_rate=rate
            )
            merged[change.sku] = line
    if not merged:
        raise InvalidChange("an order needs at least one line: cancel it instead")
    return list(merged.values())


# What the order's workflow refuses now, and why (its validators and its handlers both ask).
# A held order is judged by `where` it stopped; once the parcel is `shipping`, it is too late.


def cancel_refused(progress: OrderProgress) -> str | None:
    """A second cancel is the first one again (accepted); else too late, or already final."""
    status = progress.status
    if progress.cancel is not None:
        return None
    if status in TERMINAL:
        return f"order is already {status}"
    if progress.shipping or S.CANCELLED not in TRANSITIONS[status]:
        return f"order is {_leaving(status)}: too late to cancel, request a return"
    return None


def change_refused(progress: OrderProgress, request: ChangeRequest) -> str | None:
    """Lines until picking starts, the address until the parcel leaves; and lines that make
    sense for this order."""
    where = progress.where
    if (closing := _closing(progress)) is not None:
        return closing
    if request.lines is not None and (progress.picking or where not in LINES_CHANGEABLE):
        picked = "being picked" if where is S.RESERVED else where
        return f"order is {picked}: lines can only change before picking"
    if request.shipping_address is not None and (progress.shipping or where not in HOLDABLE):
        return f"order is {_leaving(where)}: the address can only change until it ships"
    if request.lines is not None:
        try:
            lines = merge_lines(progress.order.lines, request.lines)
        except InvalidChange as invalid:
            return str(invalid)
        return _credit_refused(progress.order, order_total(lines))
    return None


def _credit_refused(order: OrderInput, total: int) -> str | None:
    """Store credit paid part of the order: the total cannot fall below it (the credit is held
    whole), and with no card the total cannot grow beyond it."""
    credit = order.store_credit
    if credit and total < credit:
        paid = format_money(credit, order.currency)
        return f"the new total would be below the {paid} of store credit it is paid with"
    if credit and total > credit and not order.payment_token:
        return "the order is paid with store credit alone: it has no card to pay more"
    return None


def hold_refused(progress: OrderProgress) -> str | None:
    """One hold at a time, and only before the parcel leaves."""
    if (held := progress.hold) is not None:
        return f"order is already on hold ({held.reason_code} by {held.requested_by})"
    if (closing := _closing(progress)) is not None:
        return closing
    if progress.shipping or progress.where not in HOLDABLE:
        return f"order is {_leaving(progress.where)}: too late to hold"
    return None


def release_refused(progress: OrderProgress) -> str | None:
    return _closing(progress) or (None if progress.hold is not None else "order is not on hold")


def _closing(progress: OrderProgress) -> str | None:
    if progress.status in TERMINAL:
        return f"order is already {progress.status}"
    if progress.cancel is not None:
        return "order is being cancelled"
    return "order is stopping" if progress.stopping else None


def _leaving(status: OrderStatus) -> str:
    """'being shipped' while a packed order's label is bought; else the status it is past."""
    return "being shipped" if status is S.PACKED else status


def order_skus(lines: Iterable[OrderLine]) -> list[str]:
    """The order's SKUs, sorted: the `Skus` search attribute ops find orders by."""
    return sorted(line.sku for line in lines)


class Priced(Protocol):
    """A line with a quantity and a unit price: a payload's, a row's or a request's."""

    @property
    def quantity(self) -> int: ...

    @property
    def unit_price(self) -> int: ...


def order_total(lines: Iterable[Priced]) -> int:
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


WAITING_FOR = "waiting for "  # a backordered order's history reason: "waiting for SKU-1, SKU-2"


def backorder_reason(missing: Sequence[str]) -> str:
    return WAITING_FOR + ", ".join(missing)


def backordered_skus(reason: str | None) -> list[str]:
    """The SKUs a backordered history row waits for (`backorder_reason` read back)."""
    if reason is None or not reason.startswith(WAITING_FOR):
        return []
    return reason.removeprefix(WAITING_FOR).split(", ")
