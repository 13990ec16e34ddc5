"""An order's payment and its append-only transactions: what the OMS knows of its money.

Each gateway call's outcome is one transaction row, unique by the call's idempotency key, and
the payment row is brought up to date in the same PostgreSQL transaction: an activity retried
after a crash finds its row and changes nothing twice.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import events, snapshots
from db.models import OrderRecord, PaymentRecord, PaymentTransactionRecord
from db.session import SessionFactory
from integration.catalog import EventType
from workflows.money_contracts import PaymentStatus

P = PaymentStatus


@dataclass(frozen=True, kw_only=True)
class Transaction:
    """One gateway call as it ended: `succeeded`, or `declined` with the gateway's reason."""

    order_id: str
    kind: str  # authorize, adjust, capture, void, refund
    amount: int
    key: str
    currency: str | None = None  # None: the order's (a void knows no more than the order)
    outcome: str = "succeeded"
    reference: str | None = None
    detail: str | None = None
    refund_id: str | None = None


def new_payment(order_id: str, currency: str, store_credit: int) -> PaymentRecord:
    """The payment of an order just placed: nothing authorized yet."""
    return PaymentRecord(
        order_id=order_id,
        currency=currency,
        status=P.PENDING.value,
        authorized=0,
        captured=0,
        refunded=0,
        store_credit=store_credit,
        updated_at=datetime.now(UTC),
    )


async def record(session: AsyncSession, tx: Transaction) -> bool:
    """Append the transaction and apply it to the payment, once (False: it was already there).
    The caller owns the transaction."""
    currency = tx.currency or await session.scalar(
        select(OrderRecord.currency).where(OrderRecord.id == tx.order_id)
    )
    inserted = await session.scalar(
        insert(PaymentTransactionRecord)
        .values(
            order_id=tx.order_id,
            kind=tx.kind,
            amount=tx.amount,
            currency=currency,
            outcome=tx.outcome,
            gateway_reference=tx.reference,
            idempotency_key=tx.key,
            detail=tx.detail,
            refund_id=tx.refund_id,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(PaymentTransactionRecord.id)
    )
    if inserted is None:
        return False
    payment = await locked(session, tx.order_id)
    if payment is not None:
        _apply(payment, tx)
        if tx.kind == "capture" and tx.outcome == "succeeded":
            await captured(session, payment)
    return True


async def captured(session: AsyncSession, payment: PaymentRecord) -> None:
    """`payment.captured`: the order's money was taken (by card, or by store credit alone)."""
    await session.flush()
    data = {"payment": snapshots.payment(payment)}
    await events.emit(session, EventType.PAYMENT_CAPTURED, payment.order_id, data)


async def locked(session: AsyncSession, order_id: str) -> PaymentRecord | None:
    """The order's payment, locked until the caller's transaction ends: refunds claim under it."""
    query = select(PaymentRecord).where(PaymentRecord.order_id == order_id).with_for_update()
    found: PaymentRecord | None = await session.scalar(query)
    return found


def add_refunded(payment: PaymentRecord, amount: int) -> None:
    """A refund succeeded (to the card or as store credit)."""
    payment.refunded += amount
    payment.status = _refund_status(payment).value
    payment.updated_at = datetime.now(UTC)


def _apply(payment: PaymentRecord, tx: Transaction) -> None:
    if tx.outcome != "succeeded":
        if tx.kind == "authorize":
            payment.status = P.FAILED.value
        return
    if tx.kind in ("authorize", "adjust"):
        payment.authorized = tx.amount
        payment.status = P.AUTHORIZED.value
    elif tx.kind == "capture":
        payment.captured += tx.amount
        payment.authorized = 0
        payment.status = P.CAPTURED.value
    elif tx.kind == "void" and payment.captured == 0:
        payment.authorized = 0
        payment.status = P.VOIDED.value
    payment.updated_at = datetime.now(UTC)


def _refund_status(payment: PaymentRecord) -> PaymentStatus:
    total_paid = payment.captured + payment.store_credit
    return P.REFUNDED if payment.refunded >= total_paid else P.PARTIALLY_REFUNDED


def mark_captured_by_credit(payment: PaymentRecord) -> bool:
    """An order paid with store credit alone is `captured` when its credit is redeemed (False:
    it already was)."""
    if payment.status not in (P.PENDING.value, P.AUTHORIZED.value):
        return False
    payment.status = P.CAPTURED.value
    payment.updated_at = datetime.now(UTC)
    return True


class PaymentLedger:
    """The activities' PaymentBook: each transaction in a PostgreSQL transaction of its own."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def record(self, tx: Transaction) -> None:
        async with self._sessions.begin() as session:
            await record(session, tx)
