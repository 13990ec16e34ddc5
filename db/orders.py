"""Orders in the read model: the API's writes at placement and its reads (one order, a page)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from db.models import OrderLineRecord, OrderRecord, ReturnRecord
from workflows.contracts import OrderStatus

# selectinload: one `WHERE order_id IN (...)` query per relationship for a whole page, never N+1.
_DETAILS = (
    selectinload(OrderRecord.lines),
    selectinload(OrderRecord.history),
    selectinload(OrderRecord.shipments),
    joinedload(OrderRecord.payment),  # one row per order: joined, not a query of its own
    selectinload(OrderRecord.documents),
    selectinload(OrderRecord.refunds),
    selectinload(OrderRecord.returns).selectinload(ReturnRecord.lines),  # a line's `returned`
)


@dataclass(frozen=True, kw_only=True)
class PagePosition:
    """The last order of a page, as the keyset (created_at, id) the next page starts after."""

    created_at: datetime
    order_id: str


@dataclass(frozen=True, kw_only=True)
class OrderHead:
    """What deciding about an order needs first: where it is, and whose it is."""

    status: str
    channel: str


class OrderRepository:
    """Order rows on one session; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, order: OrderRecord) -> None:
        """Insert the order with its lines and history; the unique idempotency key may refuse it."""
        self._session.add(order)
        await self._session.flush()

    async def get_with_details(self, order_id: str) -> OrderRecord | None:
        """One order with its lines, history and shipments loaded."""
        found = await self._session.scalars(_with_details().where(OrderRecord.id == order_id))
        return found.one_or_none()

    async def head(self, order_id: str) -> OrderHead | None:
        """The order's status and channel as committed now (None: no such order); one narrow
        query."""
        query = select(OrderRecord.status, OrderRecord.channel).where(OrderRecord.id == order_id)
        row = (await self._session.execute(query)).one_or_none()
        return None if row is None else OrderHead(status=row.status, channel=row.channel)

    async def skus(self, order_id: str) -> Sequence[str]:
        """The SKUs on the order's lines."""
        query = select(OrderLineRecord.sku).where(OrderLineRecord.order_id == order_id)
        return (await self._session.scalars(query)).all()

    async def customer_in_channel(self, customer_id: str, channel: str) -> bool:
        """Whether the customer placed an order on `channel` (a storefront's own customers)."""
        query = select(OrderRecord.id).where(
            OrderRecord.customer_id == customer_id, OrderRecord.channel == channel
        )
        return await self._session.scalar(query.limit(1)) is not None

    async def by_idempotency_key(self, channel: str, key: str) -> OrderRecord | None:
        """The order `channel` placed with this Idempotency-Key, details loaded."""
        query = _with_details().where(
            OrderRecord.channel == channel, OrderRecord.idempotency_key == key
        )
        return (await self._session.scalars(query)).one_or_none()

    async def page(
        self,
        status: str | None,
        customer_id: str | None,
        limit: int,
        after: PagePosition | None,
        channel: str | None = None,
    ) -> Sequence[OrderRecord]:
        """Newest first, up to `limit` orders after `after` (keyset: no OFFSET scans)."""
        query = _with_details()
        if channel is not None:
            query = query.where(OrderRecord.channel == channel)
        if status is not None:
            query = query.where(OrderRecord.status == status)
        if customer_id is not None:
            query = query.where(OrderRecord.customer_id == customer_id)
        if after is not None:
            keyset = tuple_(OrderRecord.created_at, OrderRecord.id)
            query = query.where(keyset < tuple_(after.created_at, after.order_id))
        query = query.order_by(OrderRecord.created_at.desc(), OrderRecord.id.desc()).limit(limit)
        return (await self._session.scalars(query)).all()

    async def search(
        self, text: str | None, status: str | None, limit: int
    ) -> Sequence[OrderRecord]:
        """Newest first: orders whose id or customer id is `text`, or whose email is, in any case.

        Each branch of the OR has its index (primary key, customer, lower(email)), so PostgreSQL
        combines three index scans instead of reading the table. Details are not loaded.
        """
        query = select(OrderRecord)
        if text is not None:
            query = query.where(
                or_(
                    OrderRecord.id == text,
                    OrderRecord.customer_id == text,
                    func.lower(OrderRecord.customer_email) == func.lower(text),
                )
            )
        if status is not None:
            query = query.where(OrderRecord.status == status)
        query = query.order_by(OrderRecord.created_at.desc(), OrderRecord.id.desc()).limit(limit)
        return (await self._session.scalars(query)).all()

    async def backordered_waiting_for(self, sku: str) -> list[str]:
        """Ids of the backordered orders with a line for `sku` (via the order_lines.sku index)."""
        query = (
            select(OrderRecord.id)
            .join(OrderLineRecord, OrderLineRecord.order_id == OrderRecord.id)
            .where(OrderLineRecord.sku == sku, OrderRecord.status == OrderStatus.BACKORDERED.value)
            .distinct()
        )
        return list(await self._session.scalars(query))


def _with_details() -> Select[OrderRecord]:
    return select(OrderRecord).options(*_DETAILS)
