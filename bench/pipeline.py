"""Phases 2 and 3: orders over HTTP from concurrent clients, to `completed`; POST latencies."""

from http import HTTPStatus

import httpx
import psycopg
from psycopg.rows import TupleRow

from bench.drive import Count, StartOne, Throughput, measure

SKUS = [f"BENCH-{n:03d}" for n in range(50)]
CUSTOMERS = 200
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def order_body(i: int) -> dict[str, object]:
    """A valid order of one unit of one of the benchmark's SKUs, as a storefront sends it."""
    customer = f"cust-bench-{i % CUSTOMERS}"
    return {
        "customer": {"id": customer, "email": f"{customer}@example.com", "name": "Ada"},
        "shipping_address": ADDRESS,
        "lines": [{"sku": SKUS[i % len(SKUS)], "quantity": 1, "unit_price": 1999}],
        "currency": "EUR",
        "payment": {"token": "tok_visa"},
    }


async def stock_up(http: httpx.AsyncClient, units: int, headers: dict[str, str]) -> None:
    """Put `units` in stock for every benchmark SKU (PUT /v1/inventory/{sku}, as the warehouse:
    `headers` carry its key)."""
    for sku in SKUS:
        answer = await http.put(f"/v1/inventory/{sku}", json={"on_hand": units}, headers=headers)
        answer.raise_for_status()


def placer(http: httpx.AsyncClient, prefix: str) -> StartOne:
    """Places order i with its own Idempotency-Key; True when the API accepted it (202)."""

    async def place(i: int) -> bool:
        headers = {"Idempotency-Key": f"{prefix}-{i}"}
        answer = await http.post("/v1/orders", json=order_body(i), headers=headers)
        return answer.status_code == HTTPStatus.ACCEPTED

    return place


async def completed_counter(conn: psycopg.AsyncConnection[TupleRow]) -> Count:
    """Counts `completed` orders in the read model (one COUNT, never a GET per order)."""

    async def count() -> int:
        cursor = await conn.execute("SELECT count(*) FROM orders WHERE status = 'completed'")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    return count


async def measure_pipeline(
    http: httpx.AsyncClient, dsn: str, orders: int, clients: int
) -> Throughput:
    """Warm up with `clients` orders, then place `orders` orders and time them to `completed`
    (the SKUs are stocked with `stock_up` first)."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        count = await completed_counter(conn)
        await measure("warm-up", clients, clients, placer(http, "warm"), count)
        return await measure("pipeline", orders, clients, placer(http, "bench"), count)


async def status_counts(dsn: str) -> dict[str, int]:
    """How many orders are in each status (after the run: all should be `completed`)."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT status, count(*) FROM orders GROUP BY status")
        return {str(status): int(n) for status, n in await cursor.fetchall()}
