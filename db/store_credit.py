"""Store credit: an append-only ledger per customer and currency, and the balance it sums to.

The balance row is locked and changed in the transaction that appends the entry, and a CHECK
keeps it at zero or above: two orders spending the same credit at once cannot both succeed.
Every entry is unique by its idempotency key (`{order_id}:store_credit:hold`, …), so a retried
activity appends nothing twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import customers, events, snapshots
from db.models import StoreCreditAccountRecord, StoreCreditEntryRecord
from integration.catalog import EventType


class CreditKind(StrEnum):
    ISSUED = "issued"  # a refund to store credit, or goodwill: the balance grows
    HELD = "held"  # an order holds it: the balance shrinks
    REDEEMED = "redeemed"  # the order was paid: the hold is spent (the balance stays)
    RELEASED = "released"  # the order stopped: the hold comes back


_SIGN = {CreditKind.ISSUED: 1, CreditKind.HELD: -1, CreditKind.REDEEMED: 0, CreditKind.RELEASED: 1}


class InsufficientCredit(Exception):
    """The balance is smaller than the hold asked for."""

    def __init__(self, balance: int, wanted: int) -> None:
        super().__init__(f"store credit balance {balance} is below {wanted}")
        self.balance, self.wanted = balance, wanted


@dataclass(frozen=True, kw_only=True)
class CreditEntry:
    customer_id: str
    currency: str
    kind: CreditKind
    amount: int
    key: str
    reason: str
    actor: str
    order_id: str | None = None
    refund_id: str | None = None


async def append(session: AsyncSession, entry: CreditEntry) -> StoreCreditEntryRecord:
    """Append the entry and move the balance, once; the entry already there on a retry. Raises
    InsufficientCredit when a hold would take the balance below zero. The caller commits."""
    if (existing := await by_key(session, entry.key)) is not None:
        return existing
    delta = _SIGN[entry.kind] * entry.amount
    account, seq = None, None
    if delta:  # a redemption spends what its hold already took: the balance stays
        # The customer's stream before the balance row: every writer of a customer locks in
        # that order (db/customers.py), so two of them never wait for each other.
        seq = await customers.reserve(session, entry.customer_id)
        account = await _account(session, entry.customer_id, entry.currency)
        if account.balance + delta < 0:
            raise InsufficientCredit(account.balance, entry.amount)
        account.balance += delta
        account.updated_at = datetime.now(UTC)
    record = StoreCreditEntryRecord(
        customer_id=entry.customer_id,
        currency=entry.currency,
        kind=entry.kind.value,
        amount=entry.amount,
        delta=delta,
        order_id=entry.order_id,
        refund_id=entry.refund_id,
        reason=entry.reason,
        actor=entry.actor,
        idempotency_key=entry.key,
        at=datetime.now(UTC),
    )
    session.add(record)
    await session.flush()
    if account is not None:
        await _changed(session, account, record, seq)
    return record


async def _changed(
    session: AsyncSession,
    account: StoreCreditAccountRecord,
    entry: StoreCreditEntryRecord,
    customer_seq: int | None,
) -> None:
    """`store_credit.changed`, and the customer's view with its new balance."""
    data = {
        "store_credit": snapshots.store_credit(account),
        "kind": entry.kind,
        "delta": entry.delta,
        "order_id": entry.order_id,
        "refund_id": entry.refund_id,
        "reason": entry.reason,
    }
    aggregate_id = f"{account.customer_id}:{account.currency}"
    await events.emit(session, EventType.STORE_CREDIT_CHANGED, aggregate_id, data)
    if customer_seq is not None:
        await customers.publish(session, account.customer_id, customer_seq)


async def by_key(session: AsyncSession, key: str) -> StoreCreditEntryRecord | None:
    query = select(StoreCreditEntryRecord).where(StoreCreditEntryRecord.idempotency_key == key)
    found: StoreCreditEntryRecord | None = await session.scalar(query)
    return found


async def held_by(session: AsyncSession, order_id: str) -> int:
    """The credit the order holds now: held − released − redeemed."""
    rows = await session.execute(
        select(StoreCreditEntryRecord.kind, func.sum(StoreCreditEntryRecord.amount))
        .where(StoreCreditEntryRecord.order_id == order_id)
        .group_by(StoreCreditEntryRecord.kind)
    )
    sums = {kind: int(total) for kind, total in rows.all()}
    return sums.get("held", 0) - sums.get("released", 0) - sums.get("redeemed", 0)


async def balance(session: AsyncSession, customer_id: str, currency: str) -> int:
    query = select(StoreCreditAccountRecord.balance).where(
        StoreCreditAccountRecord.customer_id == customer_id,
        StoreCreditAccountRecord.currency == currency,
    )
    return int(await session.scalar(query) or 0)


async def balances(session: AsyncSession, customer_id: str) -> Sequence[StoreCreditAccountRecord]:
    query = (
        select(StoreCreditAccountRecord)
        .where(StoreCreditAccountRecord.customer_id == customer_id)
        .order_by(StoreCreditAccountRecord.currency)
    )
    return (await session.scalars(query)).all()


async def entries(
    session: AsyncSession, customer_id: str, limit: int = 200
) -> Sequence[StoreCreditEntryRecord]:
    """The customer's newest entries first."""
    query = (
        select(StoreCreditEntryRecord)
        .where(StoreCreditEntryRecord.customer_id == customer_id)
        .order_by(StoreCreditEntryRecord.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def _account(
    session: AsyncSession, customer_id: str, currency: str
) -> StoreCreditAccountRecord:
    """The balance row, created at zero if new, locked until the caller's transaction ends."""
    await session.execute(
        insert(StoreCreditAccountRecord)
        .values(customer_id=customer_id, currency=currency, balance=0)
        .on_conflict_do_nothing()
    )
    query = (
        select(StoreCreditAccountRecord)
        .where(
            StoreCreditAccountRecord.customer_id == customer_id,
            StoreCreditAccountRecord.currency == currency,
        )
        .with_for_update()
    )
    return (await session.scalars(query)).one()
