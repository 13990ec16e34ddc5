"""StockRepository driven from synchronous code, and its books read back from PostgreSQL.

Hypothesis runs a state machine synchronously, so this owns a private event loop and an engine
created in it; the pytest-asyncio session loop is left alone.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Self, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.models import InventoryRecord, MovementRecord, ReservationRecord
from db.session import create_engine, create_session_factory
from db.stock import StockConflict, StockRepository, UnknownSku
from settings import Settings
from tests.properties.inventory_model import Books, Outcome

T = TypeVar("T")
Change = Callable[[StockRepository], Awaitable[T]]


@dataclass(frozen=True)
class Reading:
    """The books, and what they must balance with: per SKU, movements and open reservations."""

    books: Books
    moved: Mapping[str, int]
    held: Mapping[str, int]


async def _engine(url: str) -> AsyncEngine:
    return create_engine(Settings(database_url=url, db_pool_size=1))


class SyncStock:
    """One transaction per call, as the activities and the API do."""

    def __init__(self, postgres_url: str) -> None:
        self._runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)  # not the current loop
        self._engine = self._runner.run(_engine(postgres_url))
        self._sessions = create_session_factory(self._engine)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._runner.run(self._engine.dispose())
        self._runner.close()

    def change(self, change: Change[T]) -> T:
        """Run `change` in a transaction of its own and commit it."""
        return self._runner.run(self._change(change))

    def attempt(self, change: Change[object]) -> Outcome:
        """Like `change`, telling how it ended; a refusal rolls the transaction back."""
        try:
            self.change(change)
        except StockConflict:
            return Outcome.CONFLICT
        except UnknownSku:
            return Outcome.UNKNOWN
        return Outcome.DONE

    def read(self, skus: Sequence[str], orders: Sequence[str]) -> Reading:
        """The stock of `skus` and the reservations of `orders` (nothing else writes them)."""
        return self._runner.run(self._read(skus, orders))

    async def _change(self, change: Change[T]) -> T:
        async with self._sessions.begin() as session:
            return await change(StockRepository(session))

    async def _read(self, skus: Sequence[str], orders: Sequence[str]) -> Reading:
        async with self._sessions() as session:
            items = await session.scalars(
                select(InventoryRecord).where(InventoryRecord.sku.in_(skus))
            )
            stock = {item.sku: (item.on_hand, item.reserved) for item in items}
            rows = await session.scalars(
                select(ReservationRecord).where(ReservationRecord.order_id.in_(orders))
            )
            reservations = {(r.order_id, r.sku): (r.quantity, r.status) for r in rows}
            return Reading(
                books=Books(stock=stock, reservations=reservations),
                moved=await _totals(session, _moved(skus)),
                held=await _totals(session, _held(skus)),
            )


def _moved(skus: Sequence[str]) -> Select[str, int]:
    return (
        select(MovementRecord.sku, func.sum(MovementRecord.delta))
        .where(MovementRecord.sku.in_(skus))
        .group_by(MovementRecord.sku)
    )


def _held(skus: Sequence[str]) -> Select[str, int]:
    return (
        select(ReservationRecord.sku, func.sum(ReservationRecord.quantity))
        .where(ReservationRecord.sku.in_(skus), ReservationRecord.status == "open")
        .group_by(ReservationRecord.sku)
    )


async def _totals(session: AsyncSession, query: Select[str, int]) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in await session.execute(query)}
