"""Rows the relay tries itself before handing them to a workflow (webhook deliveries, customer
e-mails): taken under a lease, so two relays never try the same row and one that died mid-try
leaves it to the next once the lease is over."""

from collections.abc import Sequence
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import NotificationRecord, WebhookDeliveryRecord

Row = TypeVar("Row", WebhookDeliveryRecord, NotificationRecord)


async def claim(
    session: AsyncSession, model: type[Row], limit: int, lease: timedelta
) -> Sequence[Row]:
    """Up to `limit` rows not handed off yet and not held by a live lease, oldest first, now
    held until the database's now() + `lease` (rows another transaction is claiming are
    skipped, not waited for)."""
    free = (
        select(model.id)
        .where(
            model.started.is_(False),
            or_(model.claimed_until.is_(None), model.claimed_until < func.now()),
        )
        .order_by(model.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(model)
        .where(model.id.in_(free.scalar_subquery()))
        .values(claimed_until=func.now() + lease)
        .returning(model),
        execution_options={"synchronize_session": False},
    )
    return claimed.all()


async def hand_off(session: AsyncSession, model: type[Row], ids: Sequence[str]) -> None:
    """The rows are done, or their workflow runs: no relay tries them again."""
    if ids:
        await session.execute(
            update(model).where(model.id.in_(ids)).values(started=True, claimed_until=None)
        )
