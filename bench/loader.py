"""Synthetic orders for the read path, bulk-loaded with COPY (indexes and constraints in place)."""

import json
from datetime import datetime, timedelta
from uuid import uuid4

import psycopg

from bench.progress import Bar

BATCH = 50_000  # orders per transaction: three COPYs (orders, lines, history)
VIP = "cust-bench-vip"  # one synthetic order in 100 is theirs: a full customer page at any size
SPACING = timedelta(seconds=30)  # between two synthetic orders, going back in time
ADDRESS = json.dumps(
    {
        "name": "Grace Hopper",
        "line1": "2 Harbor Rd",
        "line2": None,
        "city": "Hamburg",
        "postal_code": "20095",
        "country": "DE",
    }
)
# Never `pending` (the reconciler would start workflows) nor `backordered` (stock signals).
STATUSES = [("completed", r"\N")] * 80 + [("cancelled", "cancelled_by_support")] * 8
STATUSES += [("failed", "payment_declined")] * 4 + [("shipped", r"\N")] * 4
STATUSES += [("packed", r"\N")] * 2 + [("reserved", r"\N")] * 2
ORDER_COLUMNS = (
    "id, customer_id, customer_email, customer_name, shipping_address, currency, total, "
    "payment_token, status, status_reason, idempotency_key, request_hash, version, "
    "created_at, updated_at"
)
TABLES = (
    f"COPY orders ({ORDER_COLUMNS}) FROM STDIN",
    "COPY order_lines (order_id, line_no, sku, quantity, unit_price) FROM STDIN",
    "COPY order_history (order_id, seq, status, reason, actor, at) FROM STDIN",
)


def synthetic_rows(first: int, count: int, newest: datetime) -> tuple[str, str, str]:
    """Orders `first`..`first+count` (older as k grows) as COPY text: orders, lines, history."""
    orders, lines, history = [], [], []
    for k in range(first, first + count):
        oid = str(uuid4())
        status, reason = STATUSES[k % 100]
        customer = VIP if k % 100 == 37 else f"cust-syn-{k * 7919 % 50_000}"
        at = (newest - SPACING * (k + 1)).isoformat()
        quantity, price = 1 + k % 3, 500 + k % 5000
        orders.append(
            f"{oid}\t{customer}\t{customer}@example.com\tSynthetic Customer\t{ADDRESS}\tEUR\t"
            f"{quantity * price}\ttok_visa\t{status}\t{reason}\t\\N\t{oid.replace('-', '') * 2}\t"
            f"1\t{at}\t{at}\n"
        )
        lines.append(f"{oid}\t0\tSYN-{k % 1000:04d}\t{quantity}\t{price}\n")
        history.append(f"{oid}\t1\t{status}\t{reason}\tworkflow\t{at}\n")
    return "".join(orders), "".join(lines), "".join(history)


# The customer view's trigger counts each order at its commit (migration 0007): synthetic orders
# are read-model rows only, as they have no workflow, so they bypass it while loading.
CUSTOMER_TRIGGER = "orders_count_for_customers"


async def load(dsn: str, first: int, count: int, newest: datetime) -> None:
    """COPY `count` synthetic orders (one line and one history row each), a batch per commit."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await conn.execute(f"ALTER TABLE orders DISABLE TRIGGER {CUSTOMER_TRIGGER}")
        await conn.commit()
        try:
            await _copy(conn, first, count, newest)
        finally:
            await conn.execute(f"ALTER TABLE orders ENABLE TRIGGER {CUSTOMER_TRIGGER}")
            await conn.commit()


async def _copy(
    conn: psycopg.AsyncConnection[tuple[object, ...]], first: int, count: int, newest: datetime
) -> None:
    with Bar(f"read path: loading {count:,} orders", count, "order") as bar:
        for start in range(first, first + count, BATCH):
            size = min(BATCH, first + count - start)
            texts = synthetic_rows(start, size, newest)
            async with conn.transaction(), conn.cursor() as cursor:
                for statement, text in zip(TABLES, texts, strict=True):
                    async with cursor.copy(statement) as copy:
                        await copy.write(text)
            bar.advance(size)


async def vacuum_analyze(dsn: str) -> None:
    """What autovacuum would do after a bulk load: statistics and the visibility map."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        for table in ("orders", "order_lines", "order_history"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
