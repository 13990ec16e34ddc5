"""What a return or claim may ask, checked at request time against the locked order: the 422s
(what the request names does not fit the order) and the 409s (the order cannot take it now).

Pure functions of the rows they are given, so both the API and the console refuse alike."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from api.errors import Conflict, field_error, invalid
from db.models import OrderRecord
from workflows.contracts import OrderStatus

# An order is shipped from `shipped` on; `completed` with this reason was never confirmed.
SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})
UNCONFIRMED = "delivery_unconfirmed"


class Units(Protocol):
    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...


class Scanned(Units, Protocol):
    @property
    def condition(self) -> str: ...


def refuse_unknown_lines(lines: Sequence[Units], on_order: set[str], field: str = "lines") -> None:
    """422 for a SKU not on the order, or named twice."""
    errors, seen = [], set[str]()
    for no, line in enumerate(lines):
        where = ("body", field, no, "sku")
        if line.sku not in on_order:
            msg = f"{line.sku!r} is not on the order"
            errors.append(field_error(where, msg, "not_on_order", line.sku))
        elif line.sku in seen:
            msg = f"{line.sku!r} is named twice"
            errors.append(field_error(where, msg, "duplicate_sku", line.sku))
        seen.add(line.sku)
    if errors:
        raise invalid(errors)


def refuse_unknown_receipt(lines: Sequence[Scanned], expected: set[str]) -> None:
    """422 for a SKU the return does not expect, or one named twice in the same condition (one
    SKU may come back partly resellable, partly damaged)."""
    errors, seen = [], set[tuple[str, str]]()
    for no, line in enumerate(lines):
        where = ("body", "lines", no, "sku")
        if line.sku not in expected:
            msg = f"{line.sku!r} is not in this return"
            errors.append(field_error(where, msg, "not_in_return", line.sku))
        elif (line.sku, line.condition) in seen:
            msg = f"{line.sku!r} is named twice as {line.condition}"
            errors.append(field_error(where, msg, "duplicate_sku", line.sku))
        seen.add((line.sku, line.condition))
    if errors:
        raise invalid(errors)


def refuse_not_shipped(order: OrderRecord) -> None:
    """409 unless the parcel left (a claim may come before delivery is confirmed)."""
    if OrderStatus(order.status) not in SHIPPED:
        raise Conflict(f"the order is {order.status}: it has not been shipped")


def delivered_at(order: OrderRecord) -> datetime | None:
    """When the carrier confirmed delivery (history loaded); None if it never did."""
    if order.status_reason == UNCONFIRMED:
        return None
    return next((row.at for row in order.history if row.status == OrderStatus.DELIVERED), None)


def refuse_outside_window(order: OrderRecord, now: datetime, window: timedelta) -> None:
    """409 unless the order was delivered, less than `window` ago."""
    refuse_not_shipped(order)
    delivered = delivered_at(order)
    if delivered is None:
        raise Conflict("the order has not been delivered yet: use a claim for a lost parcel")
    if now > delivered + window:
        closed = f"{delivered + window:%Y-%m-%d %H:%M} UTC"
        raise Conflict(f"outside the return window: it closed on {closed}")


def refuse_too_many(order: OrderRecord, lines: Sequence[Units], held: dict[str, int]) -> None:
    """409 for more units than shipped, less those returned, being returned or claimed."""
    shipped: dict[str, int] = {}
    for line in order.lines:
        shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    for asked in lines:
        sku, had, gone = asked.sku, shipped.get(asked.sku, 0), held.get(asked.sku, 0)
        if asked.quantity > had - gone:
            raise Conflict(
                f"{asked.quantity} × {sku} is more than can be returned: {had} shipped, "
                f"{gone} already returned, being returned or claimed"
            )


def exchange_errors(
    exchange: Sequence[Units], resolution: str, advance: bool
) -> list[dict[str, object]]:
    """The 422s of the exchange fields themselves, before anything is looked up."""
    errors = []
    if resolution == "exchange" and not exchange:
        msg = "an exchange needs exchange_lines: what the customer gets instead"
        errors.append(field_error(("body", "exchange_lines"), msg, "missing", None))
    if resolution != "exchange" and exchange:
        msg = "exchange_lines go with the resolution exchange only"
        errors.append(field_error(("body", "exchange_lines"), msg, "not_an_exchange", None))
    if advance and resolution != "exchange":
        msg = "an advance is for an exchange only"
        errors.append(field_error(("body", "advance"), msg, "not_an_exchange", advance))
    seen = set[str]()
    for no, line in enumerate(exchange):
        if line.sku in seen:
            msg = f"{line.sku!r} is named twice"
            errors.append(
                field_error(("body", "exchange_lines", no, "sku"), msg, "duplicate_sku", line.sku)
            )
        seen.add(line.sku)
    return errors


def unpriced_errors(
    exchange: Sequence[Units],
    unknown: set[str],
    priced: set[str],
) -> list[dict[str, object]]:
    """422 for an exchange SKU the inventory never heard of, or one without any price (not on
    the order, never sold, no `unit_price`)."""
    errors = []
    for no, line in enumerate(exchange):
        where = ("body", "exchange_lines", no)
        if line.sku in unknown:
            msg = f"unknown SKU {line.sku!r}"
            errors.append(field_error((*where, "sku"), msg, "unknown_sku", line.sku))
        elif line.sku not in priced:
            msg = f"{line.sku!r} was never sold: give its unit_price"
            errors.append(field_error((*where, "unit_price"), msg, "missing", None))
    return errors
