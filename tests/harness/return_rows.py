"""Orders and returns written by the real code, for the returns' invariants: orders shipped,
paid and invoiced as their activities would (db.stock, db.payments, db.books and the simulated
outside world), then returned and claimed as the return's activities would (db.returns,
db.return_books), card refunds paid out as the refund workflow would. return_story.py tells the
story with them.
"""

from datetime import UTC, datetime
from uuid import uuid4

from db import books, order_events, payments, refunds, return_books, returns
from db.models import (
    OrderLineRecord,
    OrderRecord,
    ReturnHistoryRecord,
    ReturnLineRecord,
    ReturnRecord,
)
from db.payments import Transaction
from db.refunds import RefundAsk
from db.session import SessionFactory
from db.stock import StockRepository, Wanted
from settings import Settings
from tests.factories import ADDRESS
from tests.harness.invariants_story import Story
from workflows.money_contracts import RefundMethod
from workflows.return_contracts import (
    Condition,
    ReceivedLine,
    ReceiveUnitsInput,
    RecordReturnStatusInput,
    Resolution,
    ReturnHistoryEntry,
    ReturnLabel,
    ReturnStatus,
)

A, B = "SKU-A", "SKU-B"  # the database is the story's own: plain names are fine
PRICE = 1000
S, R = ReturnStatus, Resolution


class ReturnStory(Story):
    """Writes orders and returns the way their activities would, through the same code."""

    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__(sessions)
        self.settings = Settings()
        self._seq: dict[str, int] = {}

    async def sold(self, lines: dict[str, int]) -> str:
        """An order placed, shipped, captured and invoiced: completed."""
        order_id, now = f"o-{uuid4()}", datetime.now(UTC)
        async with self.sessions.begin() as session:
            session.add(_order(order_id, lines, now))
            await session.flush()
            await order_events.placed(session, order_id)
        await self.fulfil(order_id)
        return order_id

    async def fulfil(self, order_id: str) -> None:
        """The order workflow's steps; an advance exchange's stop at shipping (`settle`)."""
        async with self.sessions.begin() as session:
            order = await return_books.order_of(session, order_id)
            wanted = [Wanted(sku=line.sku, quantity=line.quantity) for line in order.lines]
            assert await StockRepository(session).reserve(order_id, wanted) == []
        card = order.total - order.store_credit
        if card:
            await self._pay("authorize", order_id, card)
        await self.warehouse.pick(order_id, [])
        await self.warehouse.pack(order_id, [])
        await self.ship(order_id)
        if not order.awaits_return:
            await self._finish(order_id, card)

    async def _finish(self, order_id: str, capture: int) -> None:
        if capture:
            await self._pay("capture", order_id, capture)
        async with self.sessions.begin() as session:
            order = await return_books.order_of(session, order_id)
            await books.invoice_order(session, order, self.settings)
            order.status = "completed"

    async def _pay(self, kind: str, order_id: str, amount: int) -> None:
        key = f"{order_id}:{kind}"
        if kind == "authorize":
            await self.gateway.authorize(order_id, "tok_visa", amount, "EUR", key)
        elif kind == "capture":
            await self.gateway.capture(order_id, amount, "EUR", key)
        else:
            amount = await self.gateway.void(order_id, key)
        tx = Transaction(order_id=order_id, kind=kind, amount=amount, key=key, currency="EUR")
        async with self.sessions.begin() as session:
            await payments.record(session, tx)

    async def ask(
        self,
        order_id: str,
        resolution: Resolution,
        lines: dict[str, int],
        *,
        exchange: dict[str, int] | None = None,
        advance: bool = False,
        claim: str | None = None,
    ) -> str:
        """A return as the API writes it, `requested`; a claim (of type `claim`) `completed`:
        resolve it at once."""
        ret = _return(order_id, resolution, lines, claim)
        ret.exchange_lines = [{"sku": sku, "quantity": q} for sku, q in (exchange or {}).items()]
        ret.advance = advance
        async with self.sessions.begin() as session:
            await returns.create(session, ret)
        return ret.id

    async def move(
        self, return_id: str, *statuses: ReturnStatus, reason: str | None = None
    ) -> None:
        """Record the workflow's transitions (a label issued on the way to awaiting_receipt)."""
        for status in statuses:
            label = None
            if status is S.AWAITING_RECEIPT:
                issued = await self.carrier.create_return_label(return_id)
                label = ReturnLabel(
                    carrier=issued.carrier,
                    tracking_number=issued.tracking_number,
                    shipment_id=issued.shipment_id,
                )
            seq = self._seq[return_id] = self._seq.get(return_id, 0) + 1
            entry = ReturnHistoryEntry(status=status, at=datetime.now(UTC), reason=reason)
            record = RecordReturnStatusInput(return_id=return_id, seq=seq, entry=entry, label=label)
            async with self.sessions.begin() as session:
                await returns.record_status(session, record)

    async def receive(self, return_id: str, condition: Condition, units: dict[str, int]) -> None:
        lines = [ReceivedLine(sku=s, quantity=q, condition=condition) for s, q in units.items()]
        receipt = ReceiveUnitsInput(
            return_id=return_id, request_id=str(uuid4()), received_by="user:ware", lines=lines
        )
        async with self.sessions.begin() as session:
            await returns.receive(session, receipt)

    async def resolve(self, return_id: str) -> return_books.Resolved:
        """The resolution, then what it started: card refunds paid out, its order fulfilled."""
        async with self.sessions.begin() as session:
            resolved = await return_books.resolve(session, return_id, self.settings)
        for refund in resolved.to_start:
            await self.pay_out(refund.id)
        if resolved.order is not None:
            await self.fulfil(resolved.order.id)
        return resolved

    async def pay_out(self, refund_id: str) -> None:
        """The refund workflow: the card's refund, then the credit note and the books."""
        async with self.sessions.begin() as session:
            refund = await refunds.get(session, refund_id)
        assert refund is not None
        key = f"{refund_id}:refund"
        await self.gateway.refund(refund.order_id, refund.amount, refund.currency, key)
        tx = Transaction(
            order_id=refund.order_id,
            kind="refund",
            amount=refund.amount,
            key=key,
            currency=refund.currency,
            refund_id=refund_id,
        )
        async with self.sessions.begin() as session:
            await payments.record(session, tx)
            refund = await refunds.get(session, refund_id, lock=True)
            assert refund is not None
            order = await return_books.order_of(session, refund.order_id)
            await books.complete_refund(session, refund, order, self.settings)

    async def advance_exchange(self, return_id: str) -> str:
        """An advance exchange's order, placed and shipped before the parcel arrives."""
        async with self.sessions.begin() as session:
            placed = await return_books.place_advance(session, return_id)
        await self.fulfil(placed.id)
        return placed.id

    async def settle(self, return_id: str) -> None:
        """The advance exchange's return ended: the card pays what the goods do not (a void
        when they pay it all), then the order is invoiced."""
        async with self.sessions.begin() as session:
            settled = await return_books.settle_advance(session, return_id, self.settings)
            rest = (await session.get_one(OrderRecord, settled.order_id)).total - settled.covered
        if not rest:
            await self._pay("void", settled.order_id, 0)
        await self._finish(settled.order_id, rest)

    async def support_refund(self, order_id: str, amount: int) -> None:
        """Support refunds a sum as store credit (no return behind it)."""
        ask = RefundAsk(
            order_id=order_id,
            method=RefundMethod.STORE_CREDIT,
            reason="goodwill",
            requested_by="user:support",
            request_hash="-",
            amount=amount,
        )
        async with self.sessions.begin() as session:
            refund = await refunds.claim(session, ask)
            order = await return_books.order_of(session, order_id)
            await books.complete_refund(session, refund, order, self.settings)


def _order(order_id: str, lines: dict[str, int], now: datetime) -> OrderRecord:
    total = sum(lines.values()) * PRICE
    return OrderRecord(
        id=order_id,
        customer_id="cust-returns",
        customer_email="ada@example.com",
        customer_name="Ada",
        shipping_address=ADDRESS,
        currency="EUR",
        total=total,
        payment_token="tok_visa",
        status="pending",
        request_hash="-",
        created_at=now,
        updated_at=now,
        lines=[
            OrderLineRecord(line_no=n, sku=sku, quantity=q, unit_price=PRICE)
            for n, (sku, q) in enumerate(lines.items(), 1)
        ],
        payment=payments.new_payment(order_id, "EUR", 0),
    )


def _return(
    order_id: str, resolution: Resolution, lines: dict[str, int], claim: str | None
) -> ReturnRecord:
    return_id, now = str(uuid4()), datetime.now(UTC)
    status = S.REQUESTED if claim is None else S.COMPLETED
    return ReturnRecord(
        id=return_id,
        kind="return" if claim is None else "claim",
        order_id=order_id,
        customer_id="cust-returns",
        channel="default",
        status=status.value,
        resolution=resolution.value,
        claim_type=claim,
        requested_by="key:storefront",
        request_hash="-",
        created_at=now,
        updated_at=now,
        lines=[
            ReturnLineRecord(line_no=n, sku=sku, quantity=q, unit_price=PRICE, reason="other")
            for n, (sku, q) in enumerate(lines.items(), 1)
        ],
        history=[ReturnHistoryRecord(seq=0, status=status.value, actor="key:storefront", at=now)],
    )
