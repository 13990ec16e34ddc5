"""Rows the relay tries itself before handing them to a workflow (webhook deliveries, customer
e-mails): taken under a lease, so two relays never try the same row and one that died mid-round
leaves it to the next once the lease is over."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import NotificationRecord, WebhookDeliveryRecord

Row = TypeVar("Row", WebhookDeliveryRecord, NotificationRecord)


@dataclass(frozen=True)
class Claimed(Generic[Row]):
    """The rows now held, and which of them a relay had held before (and died holding): it may
    have started their workflows already, so they are never tried first again."""

    rows: Sequence[Row]
    taken_over: frozenset[str]


async def claim(
    session: AsyncSession, model: type[Row], limit: int, lease: timedelta
) -> Claimed[Row]:
    """Up to `limit` rows not handed off yet and not held by a live lease, oldest first, now
    held until the database's now() + `lease` (rows another transaction is claiming are
    skipped, not waited for)."""
    free = (
        select(model)
        .where(
            model.started.is_(False),
            or_(model.claimed_until.is_(None), model.claimed_until < func.now()),
        )
        .order_by(model.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.scalars(free)).all()
    if rows:
        ids = [row.id for row in rows]
        until = func.now() + lease
        await session.execute(
            update(model).where(model.id.in_(ids)).values(claimed_until=until),
            execution_options={"synchronize_session": False},
        )
    taken_over = frozenset(row.id for row in rows if row.claimed_until is not None)
    return Claimed(rows=rows, taken_over=taken_over)


async def hand_off(session: AsyncSession, model: type[Row], ids: Sequence[str]) -> None:
    """The rows are done, or their workflow runs: no relay tries them again."""
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids)).values(started=True, claimed_until=None)
        )
