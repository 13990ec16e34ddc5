"""A return's or claim's resolution, written whole in one transaction: the refund claimed (and,
as store credit, completed at once), or the exchange's or reship's order placed, each keyed by
the return (`return:{id}:…`) so a retried resolution finds what the first one wrote.

Money back is the money issue's refund (db/refunds.py): claimed under the payment's lock, so a
return can never refund more than was paid, whatever refunds support made meanwhile. A card
refund is paid out by its own workflow (`refund-{id}`); store credit needs no outside call, so
it is completed here, and an exchange's order can hold it in the same transaction.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import books, order_events, payments, refunds
from db.models import HistoryRecord, OrderLineRecord, OrderRecord, RefundRecord, ReturnRecord
from db.refunds import RefundAsk, RefundRefused, UnitsAsked
from settings import Settings
from workflows.contracts import OrderStatus
from workflows.money_contracts import RefundMethod, RefundStatus
from workflows.return_contracts import Resolution, ReturnKind

# What each of a return's refunds is for (its idempotency key is `return:{id}:{purpose}`): the
# refund itself, the store credit that pays an exchange's order, an exchange's negative difference.
REFUND, EXCHANGE_COVER, DIFFERENCE = "refund", "exchange", "difference"
NOT_REFUNDED = "not refunded: "  # the history's reason when the order could not give it back


def is_exchange_cover(refund: RefundRecord) -> bool:
    """The store credit an exchange's order is paid with: not money the customer got back."""
    return (refund.idempotency_key or "").endswith(f":{EXCHANGE_COVER}")


@dataclass(kw_only=True)
class Resolved:
    """What the resolution wrote: refunds whose workflows must start (pending card refunds),
    the order that must start, and what could not be done, in words."""

    to_start: list[RefundRecord] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    order: OrderRecord | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Priced:
    sku: str
    quantity: int
    unit_price: int
    tax_rate: Decimal | None = None  # the original line's, for the same SKU


async def locked(session: AsyncSession, return_id: str) -> ReturnRecord:
    query = (
        select(ReturnRecord)
        .where(ReturnRecord.id == return_id)
        .options(selectinload(ReturnRecord.lines))
        .with_for_update(of=ReturnRecord)
    )
    return (await session.scalars(query)).one()


async def order_of(session: AsyncSession, order_id: str) -> OrderRecord:
    query = (
        select(OrderRecord)
        .where(OrderRecord.id == order_id)
        .options(selectinload(OrderRecord.lines))
    )
    return (await session.scalars(query)).one()


def units_back(ret: ReturnRecord) -> list[UnitsAsked]:
    """What the resolution is for: a claim's units, or what arrived of a return's."""
    if ret.kind == ReturnKind.CLAIM:
        return [UnitsAsked(sku=line.sku, quantity=line.quantity) for line in ret.lines]
    units = [(line.sku, line.resellable + line.damaged) for line in ret.lines]
    return [UnitsAsked(sku=sku, quantity=quantity) for sku, quantity in units if quantity > 0]


def value_of(ret: ReturnRecord, units: Sequence[UnitsAsked]) -> int:
    prices = {line.sku: line.unit_price for line in ret.lines}
    return sum(prices[unit.sku] * unit.quantity for unit in units)


async def resolve(session: AsyncSession, return_id: str, settings: Settings) -> Resolved:
    """Carry out the return's resolution for what it got back (a claim: for its lines)."""
    ret = await locked(session, return_id)
    order = await order_of(session, ret.order_id)
    units = units_back(ret)
    resolved = Resolved()
    match Resolution(ret.resolution):
        case Resolution.REFUND | Resolution.STORE_CREDIT if units:
            await _refund_units(session, ret, order, units, settings, resolved)
        case Resolution.EXCHANGE if units:
            await _exchange(session, ret, order, value_of(ret, units), settings, resolved)
        case Resolution.RESHIP:
            rates = {line.sku: line.tax_rate for line in order.lines}
            priced = [
                Priced(sku=u.sku, quantity=u.quantity, unit_price=0, tax_rate=rates.get(u.sku))
                for u in units
            ]
            resolved.order = await _place(session, ret, order, priced)
        case _:
            resolved.note = "nothing arrived: nothing to resolve"
    return resolved


async def _refund_units(
    session: AsyncSession,
    ret: ReturnRecord,
    order: OrderRecord,
    units: list[UnitsAsked],
    settings: Settings,
    resolved: Resolved,
) -> None:
    method = (
        RefundMethod.STORE_CREDIT
        if ret.resolution == Resolution.STORE_CREDIT
        else RefundMethod.ORIGINAL_PAYMENT
    )
    try:
        refund = await _claim(session, ret, REFUND, method, lines=units)
    except RefundRefused as refused:
        if method is RefundMethod.STORE_CREDIT or "store credit" not in str(refused):
            resolved.note = f"{NOT_REFUNDED}{refused}"
            return
        # Paid partly with store credit: what the card cannot take back comes back as credit.
        refund = await _claim(session, ret, REFUND, RefundMethod.STORE_CREDIT, lines=units)
        resolved.note = "refunded as store credit: the order was paid partly with it"
    await _settle(session, refund, order, settings, resolved)


async def _exchange(
    session: AsyncSession,
    ret: ReturnRecord,
    order: OrderRecord,
    value: int,
    settings: Settings,
    resolved: Resolved,
) -> None:
    """The returned goods' value pays for the new order, as store credit it holds at once; the
    card pays a positive difference (the new order charges it), a negative one is refunded."""
    priced = await exchange_prices(session, ret, order)
    total = sum(line.quantity * line.unit_price for line in priced)
    covered = min(value, total)
    if covered > 0:
        credit = await _claim(
            session, ret, EXCHANGE_COVER, RefundMethod.STORE_CREDIT, amount=covered
        )
        await _settle(session, credit, order, settings, resolved)
    if value > covered:
        try:
            back = await _claim(
                session, ret, DIFFERENCE, RefundMethod.ORIGINAL_PAYMENT, amount=value - covered
            )
        except RefundRefused:
            back = await _claim(
                session, ret, DIFFERENCE, RefundMethod.STORE_CREDIT, amount=value - covered
            )
        await _settle(session, back, order, settings, resolved)
    replacement = await _place(session, ret, order, priced, store_credit=covered)
    if covered > 0 and replacement.status == OrderStatus.PENDING:
        await books.hold_credit(session, replacement, covered, settings)
    resolved.order = replacement


async def place_advance(session: AsyncSession, return_id: str) -> OrderRecord:
    """An advance exchange's order, placed before the parcel arrives: the card is authorized for
    its whole total, and captured only once the return ends (`settle_advance`)."""
    ret = await locked(session, return_id)
    order = await order_of(session, ret.order_id)
    priced = await exchange_prices(session, ret, order)
    return await _place(session, ret, order, priced, awaits_return=True)


@dataclass(frozen=True, kw_only=True)
class Settlement:
    order_id: str
    covered: int  # of the replacement's total, paid by the goods that came back


async def settle_advance(session: AsyncSession, return_id: str, settings: Settings) -> Settlement:
    """The advance exchange's return ended: what arrived is credited and held by the
    replacement (which captures the rest of its total on the card); more than its total comes
    back as a refund. Nothing arrived: nothing is covered, the card pays it all."""
    ret = await locked(session, return_id)
    order = await order_of(session, ret.order_id)
    if ret.exchange_order_id is None:
        raise RuntimeError(f"return {return_id} has no replacement order to settle")
    replacement = await order_of(session, ret.exchange_order_id)
    value = value_of(ret, units_back(ret))
    covered = min(value, replacement.total)
    resolved = Resolved()
    if covered > 0:
        credit = await _claim(
            session, ret, EXCHANGE_COVER, RefundMethod.STORE_CREDIT, amount=covered
        )
        await _settle(session, credit, order, settings, resolved)
        await books.hold_credit(session, replacement, covered, settings)
        payment = await payments.locked(session, replacement.id)
        replacement.store_credit = covered
        if payment is not None:
            payment.store_credit = covered
    if value > covered:
        back = await _claim(
            session, ret, DIFFERENCE, RefundMethod.STORE_CREDIT, amount=value - covered
        )
        await _settle(session, back, order, settings, resolved)
    return Settlement(order_id=replacement.id, covered=covered)


async def exchange_prices(
    session: AsyncSession, ret: ReturnRecord, order: OrderRecord
) -> list[Priced]:
    """The exchange lines at the order's price for the same SKU, else the SKU's current price:
    the one it last sold at (the API refused SKUs that never sold and came without a price)."""
    on_order = {line.sku: line for line in order.lines}
    priced = []
    for line in ret.exchange_lines:
        same = on_order.get(line["sku"])
        price = same.unit_price if same is not None else line.get("unit_price")
        if price is None:
            price = await current_price(session, line["sku"]) or 0
        rate = None if same is None else same.tax_rate
        priced.append(
            Priced(sku=line["sku"], quantity=line["quantity"], unit_price=price, tax_rate=rate)
        )
    return priced


async def current_price(session: AsyncSession, sku: str) -> int | None:
    """The price the SKU last sold at (the OMS keeps no catalog)."""
    query = (
        select(OrderLineRecord.unit_price)
        .join(OrderRecord, OrderRecord.id == OrderLineRecord.order_id)
        .where(OrderLineRecord.sku == sku, OrderLineRecord.unit_price > 0)
        .order_by(OrderRecord.created_at.desc())
        .limit(1)
    )
    price: int | None = await session.scalar(query)
    return price


async def _claim(
    session: AsyncSession,
    ret: ReturnRecord,
    purpose: str,
    method: RefundMethod,
    amount: int | None = None,
    lines: Sequence[UnitsAsked] = (),
) -> RefundRecord:
    """The return's refund for `purpose`, claimed once: a retry finds the first claim."""
    key = f"return:{ret.id}:{purpose}"
    if (stored := await refunds.by_idempotency_key(session, ret.order_id, key)) is not None:
        return stored
    ask = RefundAsk(
        order_id=ret.order_id,
        method=method,
        reason=f"{ret.kind} {ret.id}",
        requested_by=ret.requested_by,
        request_hash=hashlib.sha256(key.encode()).hexdigest(),
        amount=amount,
        lines=lines,
        idempotency_key=key,
    )
    refund = await refunds.claim(session, ask)
    refund.return_id = ret.id
    return refund


async def _settle(
    session: AsyncSession,
    refund: RefundRecord,
    order: OrderRecord,
    settings: Settings,
    resolved: Resolved,
) -> None:
    """Store credit is complete at once; a card refund is left `pending` for its workflow."""
    resolved.refund_ids.append(refund.id)
    if refund.method == RefundMethod.STORE_CREDIT:
        await books.complete_refund(session, refund, order, settings)
    elif refund.status == RefundStatus.PENDING:
        resolved.to_start.append(refund)


async def _place(
    session: AsyncSession,
    ret: ReturnRecord,
    order: OrderRecord,
    priced: Sequence[Priced],
    store_credit: int = 0,
    awaits_return: bool = False,
) -> OrderRecord:
    """The return's (or claim's) order, placed once: `pending`, for the same customer and
    address, paid with the original order's card for what credit does not cover."""
    if ret.exchange_order_id is not None:
        return await order_of(session, ret.exchange_order_id)
    order_id, now = str(uuid4()), datetime.now(UTC)
    total = sum(line.quantity * line.unit_price for line in priced)
    placed = OrderRecord(
        id=order_id,
        customer_id=order.customer_id,
        customer_email=order.customer_email,
        customer_name=order.customer_name,
        shipping_address=order.shipping_address,
        currency=order.currency,
        total=total,
        payment_token=order.payment_token if total > store_credit else "",
        store_credit=store_credit,
        status=OrderStatus.PENDING.value,
        channel=order.channel,
        idempotency_key=None,
        request_hash=hashlib.sha256(f"{ret.kind}:{ret.id}".encode()).hexdigest(),
        version=0,
        created_at=now,
        updated_at=now,
        exchange_for=order.id,
        placed_by_return=ret.id,
        awaits_return=awaits_return,
        lines=[
            OrderLineRecord(
                line_no=no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
            )
            for no, line in enumerate(priced)
        ],
        history=[
            HistoryRecord(
                seq=0, status=OrderStatus.PENDING.value, actor=f"{ret.kind}:{ret.id}", at=now
            )
        ],
        payment=payments.new_payment(order_id, order.currency, store_credit),
    )
    session.add(placed)
    await session.flush()
    await order_events.placed(session, placed.id)  # order.created
    ret.exchange_order_id = order_id
    return placed
