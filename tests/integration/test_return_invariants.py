"""The returns' invariants on a database of their own: a sound story of returns, exchanges and
claims passes every invariant (the orders' and the money's too), each broken one is named.

The story (return_story.py) is written once, by the real code; each test breaks one thing with
plain SQL, as a bug would, in a transaction it rolls back, and expects exactly its violations.
"""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.invariants import Invariant, check
from tests.harness.return_rows import A, B
from tests.harness.return_story import ReturnWorld, rolled_back, told_in_a_database

pytestmark = pytest.mark.integration

BEYOND, STOCK, MONEY = (
    Invariant.RETURNED_BEYOND_SHIPPED,
    Invariant.RETURN_STOCK_MISMATCH,
    Invariant.RETURN_REFUND_MISMATCH,
)
SWAP, ON_HAND, DAMAGED = (
    Invariant.REPLACEMENT_MISMATCH,
    Invariant.ON_HAND_MISMATCH,
    Invariant.DAMAGED_MISMATCH,
)
DONE, UNDONE = Invariant.COMPLETED_INCOMPLETE, Invariant.NOT_COMPENSATED
EVENTS = Invariant.ORDER_EVENTS_MISMATCH
NAMES = (
    "sold", "kept", "exchange", "reship", "advance", "refunded", "exchanged", "reshipped",
    "advanced", "lapsed", "credited", "refused",
)  # fmt: skip


@pytest.fixture(scope="module")
async def told(postgres_url: str) -> AsyncIterator[tuple[AsyncEngine, ReturnWorld]]:
    """The story, written (and committed) once into a database of its own."""
    async with told_in_a_database(postgres_url, "returns") as written:
        yield written


@pytest.fixture
async def world(told: tuple[AsyncEngine, ReturnWorld]) -> AsyncIterator[ReturnWorld]:
    async with rolled_back(*told) as story:
        yield story


async def run_sql(world: ReturnWorld, *statements: str) -> None:
    names = {key: world.name(key) for key in NAMES}
    async with world.sessions.begin() as session:
        for statement in statements:
            await session.execute(text(statement.format(**names)))


async def test_a_sound_story_of_returns_passes_every_invariant(world: ReturnWorld) -> None:
    assert await check(world.sessions, require_terminal=True) == []
    assert await check(world.sessions, [world.sold, world.exchange], require_terminal=True) == []


async def test_an_unfinished_return_fails_only_when_every_return_must_be_terminal(
    world: ReturnWorld,
) -> None:
    await run_sql(world, "UPDATE returns SET status = 'awaiting_receipt' WHERE id = '{lapsed}'")

    strict = await check(world.sessions, require_terminal=True)

    assert [(v.kind, v.subject) for v in strict] == [(Invariant.NOT_TERMINAL, world.kept)]
    assert strict[0].message == f"return {world.lapsed} of order {world.kept} is awaiting_receipt"
    assert await check(world.sessions) == []


async def test_a_check_of_some_orders_ignores_the_others(world: ReturnWorld) -> None:
    await run_sql(world, "UPDATE returns SET exchange_order_id = NULL WHERE id = '{advanced}'")

    assert await check(world.sessions, [world.sold, world.reship]) == []
    assert {(v.kind, v.subject) for v in await check(world.sessions, [world.kept])} == {
        (SWAP, world.kept)
    }


MOVED = "UPDATE stock_movements SET {set} WHERE return_id = '{{{ret}}}' AND reason = '{reason}'"
RESTOCK, WRITE_OFF = "return_restock", "return_damaged"


def support_refund_for(ret: str) -> str:
    """Support's refund of `kept` (no return behind it) made a refund of return `ret`."""
    return (
        f"UPDATE refunds SET return_id = '{{{ret}}}' "
        "WHERE order_id = '{kept}' AND return_id IS NULL"
    )


A_SECOND_REPLACEMENT = (
    "INSERT INTO orders (id, customer_id, customer_email, customer_name, shipping_address, "
    "currency, total, payment_token, store_credit, status, channel, request_hash, version, "
    "created_at, updated_at, exchange_for) SELECT 'o-again', customer_id, customer_email, "
    "customer_name, shipping_address, currency, total, payment_token, 0, 'cancelled', channel, "
    "request_hash, 0, created_at, updated_at, exchange_for FROM orders WHERE id = '{exchange}'"
)
# (what breaks, SQL, every (kind, subject) expected, a phrase of the main violation's message)
# fmt: off
BROKEN = [
    ("more units claimed than shipped",
     ["UPDATE return_lines SET quantity = 2 WHERE return_id = '{reshipped}'"],
     {(BEYOND, "sold")}, "3 × SKU-B returned or claimed, 2 shipped"),
    ("a return line for a SKU not on the order",
     ["UPDATE return_lines SET sku = 'SKU-C' WHERE return_id = '{lapsed}'"],
     {(BEYOND, "kept")}, "0 × SKU-C returned or claimed, not on the order"),
    ("a restock movement that names no return",
     [MOVED.format(set="return_id = NULL", ret="refunded", reason=RESTOCK)],
     {(STOCK, "sold")}, "1 resellable received, 0 restocked"),
    ("a write-off booked for another order",
     [MOVED.format(set="order_id = '{sold}'", ret="advanced", reason=WRITE_OFF)],
     {(STOCK, "kept")}, "1 movements booked for another order"),
    ("received units counted in the wrong condition",
     ["UPDATE return_lines SET resellable = 2, damaged = 0 WHERE return_id = '{refunded}'"],
     {(STOCK, "sold")}, "2 resellable received, 1 restocked, 0 damaged received, 1 written off"),
    ("a receipt the lines do not count",
     ["UPDATE return_receipts SET lines = '[]' "
      "WHERE return_id = '{refunded}' AND lines->0->>'condition' = 'damaged'"],
     {(STOCK, "sold")}, "1 damaged received, 0 scanned damaged"),
    ("the damaged count changed without a movement",
     ["UPDATE inventory_items SET damaged = damaged + 1 WHERE sku = 'SKU-A'"],
     {(DAMAGED, A)}, "SKU SKU-A: damaged 3, 2 in damaged movements"),
    ("a restock booked as damaged stock",
     [MOVED.format(set="stock = 'damaged'", ret="exchanged", reason=RESTOCK)],
     {(ON_HAND, B), (DAMAGED, B), (STOCK, "sold")}, "1 movements of the wrong reason or stock"),
    ("a completed refund return without its refund",
     ["UPDATE refunds SET return_id = NULL WHERE return_id = '{refunded}'"],
     {(MONEY, "sold")}, "0 refunds of 0, 2000 due for the 2000 that came back, 0 refunds"),
    ("a return refunded twice",
     ["UPDATE refunds SET return_id = '{refunded}' WHERE return_id = '{exchanged}'"],
     {(MONEY, "sold")}, "2 refunds of 3000, 2000 due for the 2000 that came back, 2 refunds"),
    ("a claim refunded twice", [support_refund_for("credited")],
     {(MONEY, "kept")}, "2 refunds of 2000, 1000 due for the 1000 that was claimed"),
    ("an expired return refunded", [support_refund_for("lapsed")],
     {(MONEY, "kept")}, "1 refunds of 1000, 0 due for the 0 that came back"),
    ("a running return refunded before anything came back",
     ["UPDATE returns SET status = 'awaiting_receipt' WHERE id = '{lapsed}'",
      support_refund_for("lapsed")],
     {(MONEY, "kept"), (Invariant.NOT_TERMINAL, "kept")},
     "1 refunds of 1000, more than the 0 that came back"),
    ("a return refunded with another order's refund", [support_refund_for("refunded")],
     {(MONEY, "sold")}, "1 refunds of another order"),
    ("a completed return without a refund and no refusal in its history",
     ["UPDATE return_history SET reason = NULL WHERE return_id = '{refused}'"],
     {(MONEY, "kept")}, "0 refunds of 0, 1000 due for the 1000 that came back"),
    ("an exchange not naming its replacement",
     ["UPDATE returns SET exchange_order_id = NULL WHERE id = '{exchanged}'"],
     {(SWAP, "sold")}, "names None, placed {exchange}"),
    ("a completed exchange without a replacement",
     ["UPDATE returns SET resolution = 'exchange' WHERE id = '{refunded}'"],
     {(SWAP, "sold")}, "no replacement order (completed exchange)"),
    ("a refund return with a replacement",
     ["UPDATE returns SET resolution = 'refund' WHERE id = '{exchanged}'"],
     {(SWAP, "sold")}, "a refund with a replacement order"),
    ("a second replacement placed by no return", [A_SECOND_REPLACEMENT],
     # written behind the API's back: no event tells of it (the customer counts it: a trigger)
     {(SWAP, "sold"), (EVENTS, "o-again")},
     "order o-again replaces order {sold}, placed by no return"),
    ("a reship's order replacing another order",
     ["UPDATE orders SET exchange_for = '{kept}' WHERE id = '{reship}'"],
     {(SWAP, "sold")}, "its order {reship} replaces {kept}"),
    ("an advance exchange's order not waiting for its return",
     ["UPDATE orders SET awaits_return = false WHERE id = '{advance}'"],
     {(SWAP, "kept"), (DONE, "advance")}, "awaits_return False, advance True"),
    ("an advance exchange paid by its return, the authorization never voided",
     ["DELETE FROM sim_payments WHERE order_id = '{advance}' AND kind = 'void'"],
     {(DONE, "advance")}, "0 voids"),
    ("an expired return's label never voided",
     ["UPDATE sim_shipments SET status = 'issued' WHERE order_id = 'return-{lapsed}'"],
     {(UNDONE, "kept")}, "expired return {lapsed}, its label SR"),
]
# fmt: on


@pytest.mark.parametrize(
    ("statements", "expected", "phrase"),
    [pytest.param(sql, expected, phrase, id=what) for what, sql, expected, phrase in BROKEN],
)
async def test_each_broken_return_invariant_is_reported(
    world: ReturnWorld, statements: list[str], expected: set[tuple[Invariant, str]], phrase: str
) -> None:
    await run_sql(world, *statements)

    found = await check(world.sessions, require_terminal=True)

    assert {(v.kind, v.subject) for v in found} == {(k, world.name(s)) for k, s in expected}
    phrase = phrase.format(**{key: world.name(key) for key in NAMES})
    assert any(phrase in v.message for v in found), [str(v) for v in found]
