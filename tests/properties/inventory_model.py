"""What the inventory should do, in a few dictionaries: the oracle of the stateful stock test.

It mirrors the contract of db/stock.py, not its code: counts and adjustments refuse to take
`on_hand` below what is reserved (or past the 32-bit column), a reservation takes every line or
none and is made once per order, and release and shipment close an order's open reservations.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

MAX_ON_HAND = 2**31 - 1  # inventory_items.on_hand is a 32-bit integer


class Outcome(StrEnum):
    """How a count or an adjustment ends."""

    DONE = "done"
    CONFLICT = "conflict"  # StockConflict
    UNKNOWN = "unknown"  # UnknownSku


@dataclass(frozen=True)
class Books:
    """The state both sides are compared on: stock per SKU and every reservation row."""

    stock: Mapping[str, tuple[int, int]]  # sku -> (on_hand, reserved)
    reservations: Mapping[tuple[str, str], tuple[int, str]]  # (order, sku) -> (quantity, status)


@dataclass
class InventoryModel:
    """Known SKUs with their on-hand count, and the reservation lines of every order."""

    on_hand: dict[str, int] = field(default_factory=dict)
    orders: dict[str, dict[str, int]] = field(default_factory=dict)  # order -> sku -> quantity
    status: dict[str, str] = field(default_factory=dict)  # order -> open | released | shipped

    def reserved(self, sku: str) -> int:
        return sum(
            lines.get(sku, 0)
            for order, lines in self.orders.items()
            if self.status[order] == "open"
        )

    def count(self, sku: str, on_hand: int) -> Outcome:
        """A stock count: creates the SKU if new."""
        if on_hand < self.reserved(sku):
            return Outcome.CONFLICT
        self.on_hand[sku] = on_hand
        return Outcome.DONE

    def adjust(self, sku: str, delta: int) -> Outcome:
        if sku not in self.on_hand:
            return Outcome.UNKNOWN
        after = self.on_hand[sku] + delta
        if not self.reserved(sku) <= after <= MAX_ON_HAND:
            return Outcome.CONFLICT
        self.on_hand[sku] = after
        return Outcome.DONE

    def reserve(self, order: str, lines: Mapping[str, int]) -> list[str]:
        """The short SKUs in line order; empty when reserved, now or by an earlier attempt."""
        if order in self.orders:
            return []  # a retry: whatever happened to the first reservation stands
        short = [
            sku
            for sku, quantity in lines.items()
            if sku not in self.on_hand or self.on_hand[sku] - self.reserved(sku) < quantity
        ]
        if not short:
            self.orders[order], self.status[order] = dict(lines), "open"
        return short

    def release(self, order: str) -> None:
        if self.status.get(order) == "open":
            self.status[order] = "released"

    def ship(self, order: str) -> None:
        if self.status.get(order) == "open":
            self.status[order] = "shipped"
            for sku, quantity in self.orders[order].items():
                self.on_hand[sku] -= quantity

    def books(self) -> Books:
        return Books(
            stock={sku: (n, self.reserved(sku)) for sku, n in self.on_hand.items()},
            reservations={
                (order, sku): (quantity, self.status[order])
                for order, lines in self.orders.items()
                for sku, quantity in lines.items()
            },
        )
