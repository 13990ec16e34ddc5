"""Phase 4: one-unit reservations racing for one SKU, the project's code path vs a bare UPDATE."""

import asyncio
import time
from dataclasses import asdict, dataclass

import psycopg
from psycopg.rows import TupleRow
from sqlalchemy import text

from bench.drive import StartOne, drive
from bench.progress import Bar
from db.session import SessionFactory, create_engine, create_session_factory
from db.stock import StockRepository, Wanted
from settings import Settings

RAW_RESERVE = (
    "UPDATE inventory_items SET reserved = reserved + 1 "
    "WHERE sku = %(sku)s AND on_hand - reserved >= 1"
)
OVERSOLD = """
SELECT greatest(i.reserved - i.on_hand, 0)
     + greatest(coalesce(sum(r.quantity) FILTER (WHERE r.status = 'open'), 0) - i.on_hand, 0),
       i.reserved
FROM inventory_items i LEFT JOIN reservations r ON r.sku = i.sku
WHERE i.sku = %(sku)s GROUP BY i.sku, i.on_hand, i.reserved
"""


@dataclass(frozen=True, kw_only=True)
class HotRun:
    """One path's race: attempts, units reserved, time, and units beyond stock."""

    attempts: int
    stock: int
    reserved: int
    oversold: int
    elapsed_s: float

    @property
    def per_s(self) -> float:
        return self.attempts / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "per_s": self.per_s}


async def _stock(sessions: SessionFactory, sku: str, units: int) -> None:
    async with sessions.begin() as session:
        await StockRepository(session).set_on_hand(sku, units, actor="bench")


def _through_repository(sessions: SessionFactory, sku: str) -> StartOne:
    """StockRepository.reserve in its own transaction, as the reserve_stock activity runs it."""

    async def reserve(i: int) -> bool:
        async with sessions.begin() as session:
            await StockRepository(session).reserve(f"hot-{i}", [Wanted(sku=sku, quantity=1)])
        return True

    return reserve


def _raw(connections: "asyncio.Queue[psycopg.AsyncConnection[TupleRow]]", sku: str) -> StartOne:
    """The conditional UPDATE alone, autocommitted, on one of `clients` open connections."""

    async def reserve(i: int) -> bool:
        del i
        conn = await connections.get()
        try:
            await conn.execute(RAW_RESERVE, {"sku": sku})
        finally:
            connections.put_nowait(conn)
        return True

    return reserve


async def _race(label: str, attempts: int, clients: int, reserve: StartOne) -> float:
    with Bar(f"hot SKU: {label}", attempts, "res") as bar:
        began = time.perf_counter()
        _, failures = await drive(attempts, clients, reserve, bar)
        elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{failures} {label} reservations raised errors")
    return elapsed


async def _outcome(dsn: str, sku: str) -> tuple[int, int]:
    """(units oversold: reserved or held beyond on_hand, units reserved) of `sku`."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute(OVERSOLD, {"sku": sku})).fetchone()
    assert row is not None, f"{sku} vanished"
    return int(row[0]), int(row[1])


async def _warm(sessions: SessionFactory, clients: int) -> None:
    """Open the pool's `clients` connections before the clock starts (the raw path's are too)."""

    async def ping() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT pg_sleep(0.01)"))

    await asyncio.gather(*(ping() for _ in range(clients)))


async def race_repository(url: str, dsn: str, attempts: int, clients: int) -> HotRun:
    """`attempts` one-unit reservations via StockRepository on a SKU holding 3/4 of that."""
    settings = Settings(database_url=url, db_pool_size=clients, db_max_overflow=0)
    engine = create_engine(settings)
    sessions, sku, stock = create_session_factory(engine), "HOT-REPOSITORY", attempts * 3 // 4
    try:
        await _stock(sessions, sku, stock)
        await _warm(sessions, clients)
        reserve = _through_repository(sessions, sku)
        elapsed = await _race("StockRepository.reserve", attempts, clients, reserve)
    finally:
        await engine.dispose()
    oversold, reserved = await _outcome(dsn, sku)
    return HotRun(
        attempts=attempts, stock=stock, reserved=reserved, oversold=oversold, elapsed_s=elapsed
    )


async def race_raw(dsn: str, attempts: int, clients: int) -> HotRun:
    """The same race with the bare conditional UPDATE on `clients` autocommit connections."""
    sku, stock = "HOT-RAW", attempts * 3 // 4
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as admin:
        await admin.execute(
            "INSERT INTO inventory_items (sku, on_hand, reserved) VALUES (%s, %s, 0)", (sku, stock)
        )
    connections: asyncio.Queue[psycopg.AsyncConnection[TupleRow]] = asyncio.Queue()
    for _ in range(clients):
        connections.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
    try:
        elapsed = await _race("raw UPDATE", attempts, clients, _raw(connections, sku))
    finally:
        while not connections.empty():
            await connections.get_nowait().close()
    oversold, reserved = await _outcome(dsn, sku)
    return HotRun(
        attempts=attempts, stock=stock, reserved=reserved, oversold=oversold, elapsed_s=elapsed
    )
