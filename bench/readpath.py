"""Phase 5: GET /v1/orders pages as the read model grows from thousands to a million orders."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import quote

import httpx
import psycopg
from psycopg.rows import TupleRow

from api.cursor import encode_cursor
from bench.loader import VIP, load, vacuum_analyze
from bench.progress import Bar
from bench.stats import Summary, summarize
from db.orders import PagePosition

READS = 250  # sequential requests per kind of page and size (after WARMUP)
WARMUP = 10


@dataclass(frozen=True, kw_only=True)
class ReadLevel:
    """Page latencies at one size of the read model, and what it took to get there."""

    rows: int
    loaded: int
    load_s: float
    vacuum_s: float
    pages: dict[str, Summary]

    def to_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "loaded": self.loaded,
            "load_s": self.load_s,
            "vacuum_analyze_s": self.vacuum_s,
            "pages": {kind: summary.to_json() for kind, summary in self.pages.items()},
        }


async def _count(conn: psycopg.AsyncConnection[TupleRow]) -> int:
    row = await (await conn.execute("SELECT count(*) FROM orders")).fetchone()
    return int(row[0]) if row else 0


async def _pages(conn: psycopg.AsyncConnection[TupleRow], rows: int) -> dict[str, str]:
    """The four pages: newest, a status filter, a customer filter, one half-way down by cursor."""
    middle = await (
        await conn.execute(
            "SELECT created_at, id FROM orders ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (rows // 2,),
        )
    ).fetchone()
    assert middle is not None
    cursor = encode_cursor(PagePosition(created_at=middle[0], order_id=str(middle[1])))
    return {
        "newest": "/v1/orders?limit=50",
        "status": "/v1/orders?status=cancelled&limit=50",
        "customer": f"/v1/orders?customer_id={VIP}&limit=50",
        "deep": f"/v1/orders?limit=50&cursor={quote(cursor)}",
    }


async def _time(http: httpx.AsyncClient, path: str, bar: Bar) -> Summary:
    """Latency of READS sequential GETs of `path` (after WARMUP); a non-200 stops the run."""
    latencies = []
    for n in range(WARMUP + READS):
        began = time.perf_counter()
        answer = await http.get(path)
        elapsed = time.perf_counter() - began
        if answer.status_code != HTTPStatus.OK:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
        if n >= WARMUP:
            latencies.append(elapsed)
            bar.advance()
    return summarize(latencies)


async def measure_level(
    http: httpx.AsyncClient, dsn: str, rows: int, newest: datetime
) -> ReadLevel:
    """Load synthetic orders up to `rows` in total (if fewer), then time the four pages."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        have = await _count(conn)
        missing = max(rows - have, 0)
        began = time.perf_counter()
        if missing:
            await load(dsn, have, missing, newest)
        loaded_at = time.perf_counter()
        if missing:
            await vacuum_analyze(dsn)
        vacuumed_at = time.perf_counter()
        total = await _count(conn)
        pages = await _pages(conn, total)
    with Bar(f"read path at {total:,} orders", READS * len(pages), "GET") as bar:
        timed = {kind: await _time(http, path, bar) for kind, path in pages.items()}
    return ReadLevel(
        rows=total,
        loaded=missing,
        load_s=loaded_at - began,
        vacuum_s=vacuumed_at - loaded_at,
        pages=timed,
    )


async def measure_reads(
    http: httpx.AsyncClient, dsn: str, sizes: tuple[int, ...]
) -> list[ReadLevel]:
    """One level per size, growing the same read model from the smallest to the largest."""
    newest = datetime.now(UTC)
    return [await measure_level(http, dsn, rows, newest) for rows in sizes]
