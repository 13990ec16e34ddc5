"""Refunds: the claim that makes concurrent refunds safe, and the reads.

A refund is claimed by inserting its row `pending` while the order's payment row is locked:
every claim on an order waits for the one before it to commit, then counts it. So refunds
claimed at the same moment can never together exceed what was paid, whichever API process or
workflow claims them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import documents, payments
from db.models import OrderLineRecord, RefundRecord
from workflows.money_contracts import RefundMethod, RefundStatus
from workflows.rules import format_money

OPEN = (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)  # what counts as claimed


class RefundRefused(Exception):
    """Why the refund cannot be claimed (a 409's reason)."""


@dataclass(frozen=True, kw_only=True)
class UnitsAsked:
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class RefundAsk:
    """A refund as asked: units (`lines`) or a sum (`amount`), and who asked."""

    order_id: str
    method: RefundMethod
    reason: str
    requested_by: str
    request_hash: str
    amount: int | None = None
    lines: Sequence[UnitsAsked] = ()
    idempotency_key: str | None = None


async def claim(session: AsyncSession, ask: RefundAsk) -> RefundRecord:
    """Claim the refund (a `pending` row) if the order can give that much back; RefundRefused
    otherwise. The caller commits (which releases the payment's lock)."""
    payment = await payments.locked(session, ask.order_id)
    invoice = await documents.invoice_of(session, ask.order_id)
    if payment is None or invoice is None:
        raise RefundRefused(
            "nothing has been captured for this order yet: change or cancel the order instead"
        )
    amount = await _units_amount(session, ask) if ask.lines else ask.amount or 0
    claimed = await _claimed(session, ask.order_id)
    refundable = invoice.total - claimed.total
    money = partial(format_money, currency=payment.currency)
    if amount > refundable:
        raise RefundRefused(
            f"{money(amount)} is more than is refundable: {money(refundable)} "
            f"(paid {money(invoice.total)}, refunded or being refunded {money(claimed.total)})"
        )
    card_refundable = invoice.paid_card - claimed.card
    if ask.method == RefundMethod.ORIGINAL_PAYMENT and amount > card_refundable:
        raise RefundRefused(
            f"{money(amount)} is more than the card can get back: {money(card_refundable)} "
            "(the rest was paid with store credit: refund it as store credit)"
        )
    refund = _new_refund(ask, amount, payment.currency)
    session.add(refund)
    await session.flush()
    return refund


@dataclass(frozen=True, kw_only=True)
class _Claimed:
    total: int
    card: int


async def _claimed(session: AsyncSession, order_id: str) -> _Claimed:
    rows = await session.execute(
        select(RefundRecord.method, func.sum(RefundRecord.amount))
        .where(RefundRecord.order_id == order_id, RefundRecord.status.in_(OPEN))
        .group_by(RefundRecord.method)
    )
    sums = {method: int(total) for method, total in rows.all()}
    return _Claimed(total=sum(sums.values()), card=sums.get(RefundMethod.ORIGINAL_PAYMENT, 0))


async def _units_amount(session: AsyncSession, ask: RefundAsk) -> int:
    """The asked units at their paid price; RefundRefused for more than shipped less refunded."""
    lines = (
        await session.scalars(
            select(OrderLineRecord).where(OrderLineRecord.order_id == ask.order_id)
        )
    ).all()
    shipped = {line.sku: line for line in lines}
    refunded = await refunded_units(session, ask.order_id)
    amount = 0
    for asked in ask.lines:
        line = shipped[asked.sku]  # the API refused SKUs not on the order (422)
        left = line.quantity - refunded.get(asked.sku, 0)
        if asked.quantity > left:
            raise RefundRefused(
                f"{asked.quantity} × {asked.sku} is more than can be refunded: {line.quantity} "
                f"shipped, {line.quantity - left} refunded or being refunded"
            )
        amount += asked.quantity * line.unit_price
    return amount


async def refunded_units(session: AsyncSession, order_id: str) -> dict[str, int]:
    """Units per SKU in the order's pending and succeeded refunds."""
    query = select(RefundRecord.lines).where(
        RefundRecord.order_id == order_id, RefundRecord.status.in_(OPEN)
    )
    units: dict[str, int] = {}
    for lines in (await session.scalars(query)).all():
        for line in lines:
            units[line["sku"]] = units.get(line["sku"], 0) + int(line["quantity"])
    return units


def _new_refund(ask: RefundAsk, amount: int, currency: str) -> RefundRecord:
    return RefundRecord(
        id=str(uuid4()),
        order_id=ask.order_id,
        status=RefundStatus.PENDING.value,
        amount=amount,
        currency=currency,
        method=ask.method.value,
        reason=ask.reason,
        lines=[{"sku": line.sku, "quantity": line.quantity} for line in ask.lines],
        requested_by=ask.requested_by,
        idempotency_key=ask.idempotency_key,
        request_hash=ask.request_hash,
        created_at=datetime.now(UTC),
    )


async def by_idempotency_key(session: AsyncSession, order_id: str, key: str) -> RefundRecord | None:
    query = select(RefundRecord).where(
        RefundRecord.order_id == order_id, RefundRecord.idempotency_key == key
    )
    found: RefundRecord | None = await session.scalar(query)
    return found


async def get(session: AsyncSession, refund_id: str, lock: bool = False) -> RefundRecord | None:
    query = select(RefundRecord).where(RefundRecord.id == refund_id)
    if lock:
        query = query.with_for_update()
    found: RefundRecord | None = await session.scalar(query)
    return found


async def of_order(session: AsyncSession, order_id: str) -> Sequence[RefundRecord]:
    query = (
        select(RefundRecord)
        .where(RefundRecord.order_id == order_id)
        .order_by(RefundRecord.created_at, RefundRecord.id)
    )
    return (await session.scalars(query)).all()


async def pending_before(session: AsyncSession, before: datetime) -> Sequence[RefundRecord]:
    """Refunds still pending that were claimed before `before`: the reconciler (re)starts
    their workflows (an API that crashed between the claim and the start left them)."""
    query = select(RefundRecord).where(
        RefundRecord.status == RefundStatus.PENDING.value, RefundRecord.created_at < before
    )
    return (await session.scalars(query.limit(500))).all()
