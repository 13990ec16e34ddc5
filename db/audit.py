"""The support audit trail: append-only rows, written by the workflow and by the API."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditRecord


class AuditRepository:
    """Audit rows on one session; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, row: AuditRecord) -> None:
        """Write one outcome; the same (request_id, outcome) written again is a no-op."""
        await self._session.execute(
            insert(AuditRecord)
            .values(row.column_values())
            .on_conflict_do_nothing(index_elements=["request_id", "outcome"])
        )

    async def for_order(self, order_id: str) -> Sequence[AuditRecord]:
        """The order's audit trail, oldest first."""
        query = (
            select(AuditRecord)
            .where(AuditRecord.order_id == order_id)
            .order_by(AuditRecord.at, AuditRecord.id)
        )
        return (await self._session.scalars(query)).all()

    async def requests_of(self, request_id: str) -> list[dict[str, object]]:
        """What was asked under this request id, once per outcome written."""
        query = select(AuditRecord.request).where(AuditRecord.request_id == request_id)
        return list(await self._session.scalars(query))
