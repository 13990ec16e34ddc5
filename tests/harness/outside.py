"""In-memory stand-ins for the outside systems, for unit tests of the activities that call them.

Each implements one Protocol of activities/ (PaymentGateway, Warehouse, Carrier), records every
call as it arrived, and answers a repeated call (same key, same order) with its first answer, as
the real system would. Ids are random, so code under test cannot guess them. Each can be told to
answer the way a real one sometimes does: declined, not delivered yet.
"""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from activities.payments import PaymentDeclined
from activities.shipping import Tracking
from db.payments import Transaction
from workflows.contracts import ShipInput, Shipment, StockLine


@dataclass(frozen=True, kw_only=True)
class PaymentCall:
    """One gateway call as it arrived; a void carries neither amount, currency nor token."""

    operation: str  # "authorize", "adjust", "capture" or "void"
    order_id: str
    key: str
    amount: int | None = None
    currency: str | None = None
    token: str | None = None


@dataclass
class FakeGateway:
    """A PaymentGateway: one payment id per idempotency key; declines once told to."""

    calls: list[PaymentCall] = field(default_factory=list)
    payment_ids: dict[str, str] = field(default_factory=dict)  # by idempotency key
    declining: str | None = None  # the reason it refuses authorizations and increases with
    refusing_refunds: str | None = None  # the reason it refuses refunds with (a closed card)

    def decline(self, reason: str = "card declined") -> None:
        self.declining = reason

    async def authorize(
        self, order_id: str, token: str, amount: int, currency: str, key: str
    ) -> str:
        return self._refusable("authorize", order_id, token, amount, currency, key)

    async def adjust(self, order_id: str, token: str, amount: int, currency: str, key: str) -> str:
        return self._refusable("adjust", order_id, token, amount, currency, key)

    async def capture(self, order_id: str, amount: int, currency: str, key: str) -> str:
        self.calls.append(
            PaymentCall(
                operation="capture", order_id=order_id, key=key, amount=amount, currency=currency
            )
        )
        return self._payment_id(key)

    async def void(self, order_id: str, key: str) -> int:
        self.calls.append(PaymentCall(operation="void", order_id=order_id, key=key))
        authorized = [c.amount for c in self.calls if c.operation == "authorize"]
        return authorized[-1] if authorized and authorized[-1] is not None else 0

    async def refund(self, order_id: str, amount: int, currency: str, key: str) -> str:
        self.calls.append(
            PaymentCall(
                operation="refund", order_id=order_id, key=key, amount=amount, currency=currency
            )
        )
        if self.refusing_refunds is not None:
            raise PaymentDeclined(self.refusing_refunds)
        return self._payment_id(key)

    def _refusable(
        self, operation: str, order_id: str, token: str, amount: int, currency: str, key: str
    ) -> str:
        """Authorize and adjust: the calls a card can refuse."""
        self.calls.append(
            PaymentCall(
                operation=operation,
                order_id=order_id,
                key=key,
                amount=amount,
                currency=currency,
                token=token,
            )
        )
        if self.declining is not None:
            raise PaymentDeclined(self.declining)
        return self._payment_id(key)

    def _payment_id(self, key: str) -> str:
        return self.payment_ids.setdefault(key, f"pay-{uuid4().hex[:12]}")


@dataclass
class FakeBook:
    """A PaymentBook: the transactions the activities recorded, in order."""

    transactions: list[Transaction] = field(default_factory=list)

    async def record(self, tx: Transaction) -> None:
        self.transactions.append(tx)


@dataclass(frozen=True, kw_only=True)
class WarehouseCall:
    """One warehouse call as it arrived; `kind` is the task a cancel undoes."""

    operation: str  # "pick", "pack" or "cancel"
    order_id: str
    lines: list[StockLine] = field(default_factory=list)
    kind: str | None = None


@dataclass
class FakeWarehouse:
    """A Warehouse: one pick list and one parcel per order, each with its own reference."""

    calls: list[WarehouseCall] = field(default_factory=list)
    references: dict[tuple[str, str], str] = field(default_factory=dict)  # by (order, task)

    async def pick(self, order_id: str, lines: list[StockLine]) -> str:
        self.calls.append(WarehouseCall(operation="pick", order_id=order_id, lines=lines))
        return self._reference(order_id, "pick")

    async def pack(self, order_id: str, lines: list[StockLine]) -> str:
        self.calls.append(WarehouseCall(operation="pack", order_id=order_id, lines=lines))
        return self._reference(order_id, "pack")

    async def cancel(self, order_id: str, kind: str) -> None:
        self.calls.append(WarehouseCall(operation="cancel", order_id=order_id, kind=kind))

    def _reference(self, order_id: str, task: str) -> str:
        return self.references.setdefault((order_id, task), f"{task}-{uuid4().hex[:12]}")


@dataclass(frozen=True, kw_only=True)
class CarrierCall:
    """One carrier call as it arrived: an order's (create, void) or a shipment's (track)."""

    operation: str  # "create_shipment", "void_shipment" or "track"
    order_id: str | None = None
    shipment_id: str | None = None
    input: ShipInput | None = None


@dataclass
class FakeCarrier:
    """A Carrier: one label per order; a parcel counts as delivered unless told otherwise."""

    calls: list[CarrierCall] = field(default_factory=list)
    labels: dict[str, Shipment] = field(default_factory=dict)  # by order id
    in_transit: dict[str, datetime | None] = field(default_factory=dict)  # shipment id → expected

    def not_delivered(self, shipment_id: str, expected_at: datetime | None = None) -> None:
        """Report the parcel as on its way, expected at `expected_at` (None: no estimate)."""
        self.in_transit[shipment_id] = expected_at

    async def create_shipment(self, order_id: str, input: ShipInput) -> Shipment:
        self.calls.append(CarrierCall(operation="create_shipment", order_id=order_id, input=input))
        if order_id not in self.labels:
            self.labels[order_id] = Shipment(
                shipment_id=f"shp-{uuid4()}",
                carrier="FakePost",
                tracking_number=f"FP{uuid4().hex[:10].upper()}",
                status="in_transit",
            )
        return self.labels[order_id]

    async def void_shipment(self, order_id: str) -> None:
        self.calls.append(CarrierCall(operation="void_shipment", order_id=order_id))

    async def track(self, shipment_id: str) -> Tracking:
        self.calls.append(CarrierCall(operation="track", shipment_id=shipment_id))
        if shipment_id in self.in_transit:
            return Tracking(delivered=False, expected_at=self.in_transit[shipment_id])
        return Tracking(delivered=True)
