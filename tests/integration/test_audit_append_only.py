"""The audit trail is append-only in PostgreSQL itself: whatever the code does, a written row
is never changed or removed. Every statement here runs in a transaction that is rolled back."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.mapping import to_order_record
from api.schemas import OrderCreate
from db.audit import AuditRepository
from db.models import AuditRecord
from db.session import SessionFactory
from tests.factories import make_order_body

pytestmark = pytest.mark.integration


@pytest.fixture
async def audited(sessions: SessionFactory) -> int:
    """A stored order with one audit row, committed; returns the row's id."""
    body = OrderCreate.model_validate(make_order_body([("SKU-A", 1)]))
    order = to_order_record(body, None, "default", "key:shop")
    async with sessions.begin() as session:
        session.add(order)
        await session.flush()
        await AuditRepository(session).add(
            AuditRecord(
                order_id=order.id,
                request_id=f"hold:{uuid4()}",
                action="hold",
                requested_by="agent-7",
                request={"reason_code": "fraud_review"},
                outcome="accepted",
                detail="on hold",
                at=datetime.now(UTC),
            )
        )
        row = await session.scalar(select(AuditRecord).where(AuditRecord.order_id == order.id))
    assert row is not None
    return row.id


@pytest.fixture
async def session(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose transaction is always rolled back: a refusal that failed undoes nothing."""
    async with sessions() as session:
        try:
            yield session
        finally:
            await session.rollback()


async def row_detail(sessions: SessionFactory, row_id: int) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(AuditRecord.detail).where(AuditRecord.id == row_id))


@pytest.mark.parametrize(
    ("operation", "statement"),
    [
        ("UPDATE", "UPDATE order_audit SET detail = 'rewritten' WHERE id = :id"),
        ("DELETE", "DELETE FROM order_audit WHERE id = :id"),
        ("TRUNCATE", "TRUNCATE order_audit"),
        ("TRUNCATE", "TRUNCATE orders CASCADE"),  # reaching the audit through its orders
    ],
)
async def test_postgresql_refuses_to_change_or_remove_an_audit_row(
    audited: int,
    session: AsyncSession,
    sessions: SessionFactory,
    operation: str,
    statement: str,
) -> None:
    with pytest.raises(DBAPIError, match=f"order_audit is append-only: {operation} refused"):
        await session.execute(text(statement), {"id": audited})
    await session.rollback()

    assert await row_detail(sessions, audited) == "on hold"


async def test_an_update_that_matches_no_row_is_refused_as_well(
    audited: int, session: AsyncSession
) -> None:
    with pytest.raises(DBAPIError, match="append-only: UPDATE refused"):
        await session.execute(text("UPDATE order_audit SET detail = 'x' WHERE id = -1"))


async def test_appending_a_row_is_allowed(
    audited: int, session: AsyncSession, sessions: SessionFactory
) -> None:
    order_id = await session.scalar(select(AuditRecord.order_id).where(AuditRecord.id == audited))
    assert order_id is not None
    await AuditRepository(session).add(
        AuditRecord(
            order_id=order_id,
            request_id=f"release:{uuid4()}",
            action="release",
            requested_by="agent-7",
            request={},
            outcome="accepted",
            detail="released",
            at=datetime.now(UTC),
        )
    )

    rows = await AuditRepository(session).for_order(order_id)

    assert [row.action for row in rows] == ["hold", "release"]
