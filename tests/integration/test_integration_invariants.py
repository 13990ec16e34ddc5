"""The outbox's and the customer view's invariants, on the returns' story (written by the real
code: orders, invoices, refunds, store credit, an exchange and a reship, each with its events):
each one broken with plain SQL is named, and nothing else is."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.invariants import Invariant, check
from tests.harness.return_story import ReturnWorld, rolled_back, told_in_a_database

pytestmark = pytest.mark.integration

GAPPED, EVENTS, VIEW = (
    Invariant.EVENT_SEQUENCE_GAPPED,
    Invariant.ORDER_EVENTS_MISMATCH,
    Invariant.CUSTOMER_VIEW_MISMATCH,
)
WHO = "cust-returns"  # every order of the returns' story is this customer's


@pytest.fixture(scope="module")
async def told(postgres_url: str) -> AsyncIterator[tuple[AsyncEngine, ReturnWorld]]:
    """The story, written (and committed) once into a database of its own."""
    async with told_in_a_database(postgres_url, "outbox") as written:
        yield written


@pytest.fixture
async def world(told: tuple[AsyncEngine, ReturnWorld]) -> AsyncIterator[ReturnWorld]:
    async with rolled_back(*told) as story:
        yield story


async def run_sql(world: ReturnWorld, *statements: str) -> None:
    async with world.sessions.begin() as session:
        for statement in statements:
            await session.execute(text(statement.format(sold=world.name("sold"), who=WHO)))


A_CUSTOMER_EVENT = "aggregate = 'customer' AND aggregate_id = '{who}'"
# (what breaks, SQL, every (kind, subject) expected, a phrase of a violation's message)
# fmt: off
BROKEN = [
    ("an event lost from the middle of a stream",
     [f"DELETE FROM events WHERE {A_CUSTOMER_EVENT} AND seq = 2"],
     {(GAPPED, WHO)}, "numbered 1.."),
    ("a stream's counter behind its events",
     [f"UPDATE event_streams SET seq = seq - 1 WHERE {A_CUSTOMER_EVENT}"],
     {(GAPPED, WHO)}, "its stream at"),
    ("an order placed without its order.created",
     ["DELETE FROM events WHERE type = 'order.created' AND aggregate_id = '{sold}'"],
     {(EVENTS, "sold"), (GAPPED, "sold")}, "0 order.created events"),
    ("a move in an order's history with no event",
     ["INSERT INTO order_history (order_id, seq, status, actor, at) "
      "VALUES ('{sold}', 98, 'shipped', 'workflow', now()), "
      "('{sold}', 99, 'delivered', 'workflow', now())"],
     {(EVENTS, "sold")}, "1 moves in its history but 0 order.status_changed"),
    ("a customer counting an order too many",
     ["UPDATE customers SET orders_count = orders_count + 1 WHERE id = '{who}'"],
     {(VIEW, WHO)}, "counts"),
    ("a customer's total spent off their credit notes",
     ["UPDATE customer_spend SET credited = credited + 1 WHERE customer_id = '{who}'"],
     {(VIEW, WHO)}, "total spent disagrees with its documents in ['EUR']"),
    ("a customer's e-mail not their newest order's",
     ["UPDATE customers SET email = 'someone.else@example.com' WHERE id = '{who}'"],
     {(VIEW, WHO)}, "e-mail or name is not the newest order's"),
    ("a customer with orders and no view",
     ["DELETE FROM customer_spend WHERE customer_id = '{who}'",
      "DELETE FROM customers WHERE id = '{who}'"],
     {(VIEW, WHO)}, "orders and no view"),
]
# fmt: on


async def test_the_story_keeps_every_integration_invariant(world: ReturnWorld) -> None:
    found = await check(world.sessions)

    assert [v for v in found if v.kind in (GAPPED, EVENTS, VIEW)] == []


@pytest.mark.parametrize(
    ("statements", "expected", "phrase"),
    [pytest.param(sql, expected, phrase, id=what) for what, sql, expected, phrase in BROKEN],
)
async def test_each_broken_integration_invariant_is_reported(
    world: ReturnWorld, statements: list[str], expected: set[tuple[Invariant, str]], phrase: str
) -> None:
    await run_sql(world, *statements)

    found = await check(world.sessions)

    assert {(v.kind, v.subject) for v in found} == {(k, world.name(s)) for k, s in expected}
    assert any(phrase in v.message for v in found), [str(v) for v in found]


async def test_an_event_cannot_be_rewritten(world: ReturnWorld) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        await run_sql(world, "UPDATE events SET data = '{{}}' WHERE aggregate_id = '{sold}'")
