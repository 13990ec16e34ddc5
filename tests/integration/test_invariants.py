"""db.invariants on a database of its own: a sound story passes, each broken invariant is named.

The story (invariants_story.py) is written inside a transaction that every test rolls back; each
test then breaks one thing with plain SQL, as a bug would, and expects exactly its violations.
"""

import subprocess
import sys
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.invariants import Invariant, check
from db.session import create_engine
from settings import Settings
from tests.harness.invariants_story import A, B, Story, World, tell
from tests.harness.servers import REPO, libpq, new_database, rolled_back

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def own_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=new_database(postgres_url, "invariants")))
    yield engine
    await engine.dispose()


@pytest.fixture
async def world(own_engine: AsyncEngine) -> AsyncIterator[World]:
    async with rolled_back(own_engine) as sessions:
        yield await tell(Story(sessions))


async def run_sql(world: World, *statements: str) -> None:
    names = {key: world.name(key) for key in ("done", "cancelled", "declined", "unpaid")}
    async with world.sessions.begin() as session:
        for statement in statements:
            await session.execute(text(statement.format(**names)))


async def test_a_sound_database_passes_every_invariant(world: World) -> None:
    assert await check(world.sessions, require_terminal=True) == []
    assert await check(world.sessions, [world.done, world.unpaid], require_terminal=True) == []


async def test_an_unfinished_order_fails_only_when_every_order_must_be_terminal(
    world: World,
) -> None:
    await run_sql(world, "UPDATE orders SET status = 'packed' WHERE id = '{cancelled}'")

    strict = await check(world.sessions, require_terminal=True)
    live = await check(world.sessions)

    assert [(v.kind, v.subject) for v in strict] == [(Invariant.NOT_TERMINAL, world.cancelled)]
    assert "is packed" in strict[0].message
    assert live == []


async def test_a_check_of_some_orders_ignores_the_others(world: World) -> None:
    await run_sql(world, "DELETE FROM sim_payments WHERE order_id = '{done}' AND kind = 'capture'")

    assert await check(world.sessions, [world.declined]) == []
    assert {v.subject for v in await check(world.sessions, [world.done])} == {world.done}


D, R, OUT = Invariant.DUPLICATE, Invariant.RESERVED_MISMATCH, Invariant.RESERVED_OUT_OF_BOUNDS
C, N = Invariant.COMPLETED_INCOMPLETE, Invariant.NOT_COMPENSATED
BOOK_OUT, ON_HAND = Invariant.BOOK_OUT_MISMATCH, Invariant.ON_HAND_MISMATCH
ADJUST_A = "INSERT INTO stock_movements (sku, delta, reason, actor) VALUES ('SKU-A', {d}, 'x', 't')"
SHIP_A = (
    "INSERT INTO stock_movements (sku, delta, reason, actor, order_id) "
    "VALUES ('SKU-A', -1, 'shipment', 'workflow', '{order}')"
)
PAY = (
    "INSERT INTO sim_payments (idempotency_key, payment_id, order_id, kind, amount, currency) "
    "VALUES ('{order}-again', 'p-again', '{order}', '{kind}', 1000, 'EUR')"
)
REOPEN = (
    "UPDATE reservations SET status = 'open' WHERE order_id = '{order}'",
    "UPDATE inventory_items SET reserved = reserved + 1 WHERE sku = '{sku}'",  # books still add up
)
DROP_CHECK = "ALTER TABLE inventory_items DROP CONSTRAINT reserved_within_on_hand"

# (what breaks, SQL, every (kind, subject) expected, a phrase of the main violation's message)
# fmt: off
BROKEN = [
    ("a second reservation row for a line",
     ["ALTER TABLE reservations DROP CONSTRAINT reservations_pkey",
      "INSERT INTO reservations (order_id, sku, quantity, status) "
      "VALUES ('{cancelled}', 'SKU-A', 1, 'released')"],
     {(D, "cancelled")}, "2 reservation rows for SKU-A"),
    ("a second capture", [PAY.format(order="{done}", kind="capture")],
     {(D, "done"), (C, "done")}, "2 payment rows for capture"),
    ("a second label",
     ["ALTER TABLE sim_shipments DROP CONSTRAINT sim_shipments_pkey",
      "INSERT INTO sim_shipments (order_id, shipment_id, carrier, tracking_number, status, "
      "deliver_at) SELECT order_id, 'label-2', carrier, 'SP2', status, deliver_at "
      "FROM sim_shipments WHERE order_id = '{done}'"],
     {(D, "done"), (C, "done")}, "2 label rows"),
    ("a second shipment in the read model",
     ["INSERT INTO shipments (id, order_id, carrier, tracking_number, status) "
      "VALUES ('shipment-2', '{done}', 'SimPost', 'SP2', 'in_transit')"],
     {(D, "done"), (C, "done")}, "2 shipment rows"),
    ("a second pick list",
     ["ALTER TABLE sim_warehouse_tasks DROP CONSTRAINT sim_warehouse_tasks_pkey",
      "INSERT INTO sim_warehouse_tasks (order_id, kind, reference, status) "
      "VALUES ('{done}', 'pick', 'pick-2', 'done')"],
     {(D, "done")}, "2 warehouse task rows for pick"),
    ("a book-out written twice",
     ["UPDATE stock_movements SET delta = -1 WHERE order_id = '{done}' AND sku = 'SKU-A'",
      SHIP_A.format(order="{done}")],
     {(D, "done")}, "2 book-out movement rows for SKU-A"),
    ("reserved above on_hand",
     [DROP_CHECK, "UPDATE inventory_items SET reserved = on_hand + 1 WHERE sku = 'SKU-B'"],
     {(OUT, B), (R, B)}, "on_hand 7, reserved 8"),
    ("reserved below zero",
     [DROP_CHECK, "UPDATE inventory_items SET reserved = -1 WHERE sku = 'SKU-B'"],
     {(OUT, B), (R, B)}, "reserved -1"),
    ("reserved without a reservation",
     ["UPDATE inventory_items SET reserved = reserved + 1 WHERE sku = 'SKU-A'"],
     {(R, A)}, "open reservations broken"),
    ("on_hand changed without a movement",
     ["UPDATE inventory_items SET on_hand = on_hand + 5 WHERE sku = 'SKU-A'"],
     {(ON_HAND, A)}, "sum of movements broken"),
    ("a shipped line booked out short",
     ["UPDATE stock_movements SET delta = -1 WHERE order_id = '{done}' AND sku = 'SKU-A'",
      ADJUST_A.format(d=-1)],
     {(BOOK_OUT, "done")}, "1 × SKU-A booked out, 2 shipped"),
    ("units booked out for a released reservation",
     [SHIP_A.format(order="{cancelled}"), ADJUST_A.format(d=1)],
     {(BOOK_OUT, "cancelled")}, "1 × SKU-A booked out, 0 shipped"),
    ("completed, never captured",
     ["DELETE FROM sim_payments WHERE order_id = '{done}' AND kind = 'capture'"],
     {(C, "done")}, "0 captures"),
    ("completed, never authorized",
     ["DELETE FROM sim_payments WHERE order_id = '{done}' AND kind = 'authorize'"],
     {(C, "done")}, "0 authorizations"),
    ("completed, captured short",
     ["UPDATE sim_payments SET amount = 1 WHERE order_id = '{done}' AND kind = 'capture'"],
     {(C, "done")}, "captured 1 of a 3000 total"),
    ("completed and voided", [PAY.format(order="{done}", kind="void")],
     {(C, "done")}, "1 voids"),
    ("completed without a label",
     ["DELETE FROM sim_shipments WHERE order_id = '{done}'"], {(C, "done")}, "0 labels"),
    ("completed without a shipment",
     ["DELETE FROM shipments WHERE order_id = '{done}'"], {(C, "done")}, "0 shipments"),
    ("completed with a line never reserved as ordered",
     ["UPDATE order_lines SET quantity = 2 WHERE order_id = '{done}' AND sku = 'SKU-B'"],
     {(C, "done")}, "lines not all reserved and shipped"),
    ("cancelled, stock still held",
     [s.format(order="{cancelled}", sku=A) for s in REOPEN],
     {(N, "cancelled")}, "1 open reservations"),
    ("failed, stock still held",
     [s.format(order="{declined}", sku=B) for s in REOPEN],
     {(N, "declined")}, "1 open reservations"),
    ("cancelled, yet captured", [PAY.format(order="{cancelled}", kind="capture")],
     {(N, "cancelled")}, "1 captures"),
    ("cancelled, authorization never voided",
     ["DELETE FROM sim_payments WHERE order_id = '{cancelled}' AND kind = 'void'"],
     {(N, "cancelled")}, "an authorization never voided"),
    ("failed after shipping, authorization never voided",
     ["DELETE FROM sim_payments WHERE order_id = '{unpaid}' AND kind = 'void'"],
     {(N, "unpaid")}, "an authorization never voided"),
    ("cancelled, pick list never cancelled",
     ["UPDATE sim_warehouse_tasks SET status = 'done' "
      "WHERE order_id = '{cancelled}' AND kind = 'pick'"],
     {(N, "cancelled")}, "1 warehouse tasks not cancelled"),
    ("cancelled, label never voided",
     ["INSERT INTO sim_shipments (order_id, shipment_id, carrier, tracking_number, status, "
      "deliver_at) VALUES ('{cancelled}', 'label-c', 'SimPost', 'SP3', 'in_transit', now())"],
     {(N, "cancelled")}, "1 labels not voided"),
]
# fmt: on


@pytest.mark.parametrize(
    ("statements", "expected", "phrase"),
    [pytest.param(sql, expected, phrase, id=what) for what, sql, expected, phrase in BROKEN],
)
async def test_each_broken_invariant_is_reported(
    world: World, statements: list[str], expected: set[tuple[Invariant, str]], phrase: str
) -> None:
    await run_sql(world, *statements)

    found = await check(world.sessions, require_terminal=True)

    assert {(v.kind, v.subject) for v in found} == {(k, world.name(s)) for k, s in expected}
    assert any(phrase in v.message for v in found), [str(v) for v in found]


def invariants_cli(url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "db.invariants", "--database-url", url]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


async def test_the_command_line_exits_1_listing_violations_and_0_when_sound(
    postgres_url: str,
) -> None:
    url = new_database(postgres_url, "invariants")
    sound = invariants_cli(url)
    with psycopg.connect(libpq(url)) as db:
        db.execute("INSERT INTO inventory_items (sku, on_hand, reserved) VALUES ('SKU-X', 3, 0)")

    broken = invariants_cli(url)

    assert (sound.returncode, sound.stdout) == (0, "invariants hold\n")
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.splitlines() == [
        "on_hand_mismatch: SKU SKU-X: on_hand 3, reserved 0, sum of movements broken",
        "1 violations",
    ]
