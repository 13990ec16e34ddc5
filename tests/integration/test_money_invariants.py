"""The money invariants on a database of their own: a sound money story passes, each broken one
is named, and the ledgers refuse to be edited.

The story (money_story.py) is written inside a transaction every test rolls back; each test then
breaks one thing with plain SQL, as a bug would, and expects exactly its violations.
"""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.invariants import Invariant, check
from db.session import create_engine
from settings import Settings
from tests.harness.invariants_story import Story
from tests.harness.money_story import CUSTOMER, MoneyWorld, journal, run_sql, tell_money
from tests.harness.servers import new_database, rolled_back

pytestmark = pytest.mark.integration

VIEW = Invariant.CUSTOMER_VIEW_MISMATCH  # the customer view sums the documents too
BOOKS, LEDGER, BEYOND = (
    Invariant.BOOKS_MISMATCH,
    Invariant.PAYMENT_LEDGER_MISMATCH,
    Invariant.REFUND_BEYOND_CAPTURE,
)
NOTE, CREDIT, HELD = (
    Invariant.CREDIT_NOTE_MISMATCH,
    Invariant.STORE_CREDIT_MISMATCH,
    Invariant.CREDIT_HELD_BY_TERMINAL_ORDER,
)
NUMBERS, JOURNAL, DONE = (
    Invariant.DOCUMENT_NUMBERING,
    Invariant.JOURNAL_UNBALANCED,
    Invariant.COMPLETED_INCOMPLETE,
)


@pytest.fixture(scope="module")
async def own_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=new_database(postgres_url, "money")))
    yield engine
    await engine.dispose()


@pytest.fixture
async def world(own_engine: AsyncEngine) -> AsyncIterator[MoneyWorld]:
    async with rolled_back(own_engine) as sessions:
        yield await tell_money(Story(sessions))


def unlocked(table: str) -> str:
    """Tests run as superuser: a bug with the same rights could edit a ledger like this."""
    return f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"


def credit(kind: str, amount: int, delta: int, order: str = "", refund: str = "") -> list[str]:
    """An entry (of the mixed/credit/withdrawn order, if named), the balance moved with it."""
    of = f"'{{{order}}}'" if order else "NULL"
    for_refund = f"'{refund}'" if refund else "NULL"
    return [
        "INSERT INTO store_credit_entries (customer_id, currency, kind, amount, delta, order_id, "
        f"refund_id, reason, actor, idempotency_key) VALUES ('{CUSTOMER}', 'EUR', '{kind}', "
        f"{amount}, {delta}, {of}, {for_refund}, 'bug', 'test', '{kind}-again')",
        f"UPDATE store_credit_accounts SET balance = balance + {delta}",
    ]


def tx(kind: str, amount: int, refund: str = "NULL") -> str:
    return (
        "INSERT INTO payment_transactions (order_id, kind, amount, currency, outcome, "
        f"idempotency_key, refund_id) VALUES ('{{mixed}}', '{kind}', {amount}, 'EUR', "
        f"'succeeded', '{kind}-again', {refund})"
    )


def refund(amount: int, method: str) -> str:
    return (
        "INSERT INTO refunds (id, order_id, status, amount, currency, method, reason, "
        f"requested_by, request_hash, created_at) VALUES ('r-more', '{{mixed}}', 'pending', "
        f"{amount}, 'EUR', '{method}', 'bug', 'support', '-', now())"
    )


async def test_a_sound_money_story_passes_every_invariant(world: MoneyWorld) -> None:
    assert await check(world.sessions, require_terminal=True) == []
    money = [world.mixed, world.credit, world.withdrawn]
    assert await check(world.sessions, money, require_terminal=True) == []


async def test_a_check_of_some_orders_ignores_the_others(world: MoneyWorld) -> None:
    stranger = EMPTY_ENTRY.format(id=903, customer="someone-else")  # no order: goodwill, say
    await run_sql(world, "UPDATE payments SET captured = 1 WHERE order_id = '{mixed}'", stranger)

    everywhere = await check(world.sessions)

    assert await check(world.sessions, [world.credit]) == []
    assert [(v.kind, v.subject) for v in await check(world.sessions, [world.mixed])] == [
        (LEDGER, world.mixed)
    ]
    assert [(v.kind, v.subject) for v in everywhere] == [(LEDGER, world.mixed), (JOURNAL, "903")]


async def test_an_order_still_running_may_hold_credit(world: MoneyWorld) -> None:
    await run_sql(
        world,
        "UPDATE orders SET status = 'packed' WHERE id = '{withdrawn}'",
        unlocked("store_credit_entries"),
        "DELETE FROM store_credit_entries WHERE kind = 'released'",
        "UPDATE store_credit_accounts SET balance = balance - 1000",
    )

    strict = await check(world.sessions, require_terminal=True)

    assert await check(world.sessions) == []
    assert [(v.kind, v.subject) for v in strict] == [(Invariant.NOT_TERMINAL, world.withdrawn)]


EMPTY_ENTRY = (
    "INSERT INTO journal_entries (id, kind, currency, customer_id, description, idempotency_key, "
    "at) VALUES ({id}, 'story', 'EUR', '{customer}', 'bug', 'bug-{id}', now())"
)
ONE_INVOICE = "UPDATE document_counters SET last = 1 WHERE series = 'INV'"
INV_2 = "WHERE number = 'INV-2026-000002'"
# (what breaks, SQL, every (kind, subject) expected, a phrase of the main violation's message)
# fmt: off
BROKEN = [
    ("a second capture in the OMS's books",
     [tx("capture", 100), "UPDATE payments SET captured = 2600 WHERE order_id = '{mixed}'"],
     {(BOOKS, "mixed")}, "captured 2600 + credit redeemed 500 − refunded 1900 = 1200, invoiced"),
    ("a completed order never invoiced",
     [unlocked("documents"), f"DELETE FROM documents {INV_2}", ONE_INVOICE],
     {(BOOKS, "credit"), (VIEW, CUSTOMER)}, "completed without an invoice"),
    ("an invoice above the order's total",
     [unlocked("documents"), "UPDATE documents SET total = 3100, net_total = 2622, "
      "paid_card = 2600 WHERE number = 'INV-2026-000001'"],
     {(BOOKS, "mixed"), (VIEW, CUSTOMER)}, "invoiced 3100 of a 3000 total"),
    ("payments.captured off its captures",
     ["UPDATE payments SET captured = 2400 WHERE order_id = '{mixed}'"],
     {(LEDGER, "mixed")}, "payments.captured 2400, 2500 in succeeded captures"),
    ("payments.refunded off its refunds",
     ["UPDATE payments SET refunded = 1000 WHERE order_id = '{mixed}'"],
     {(LEDGER, "mixed")}, "payments.refunded 1000, 1900 in succeeded refunds"),
    ("payments.store_credit off the order's",
     ["UPDATE payments SET store_credit = 0 WHERE order_id = '{credit}'"],
     {(LEDGER, "credit")}, "payments.store_credit 0, the order's 1000"),
    ("a succeeded card refund never paid out",
     [unlocked("payment_transactions"),
      "DELETE FROM payment_transactions WHERE refund_id = 'r-card'"],
     {(LEDGER, "mixed")}, "succeeded refund r-card of 1000 by original_payment, 0 paid"),
    ("a failed refund paid out", [tx("refund", 150, "'r-failed'")],
     {(LEDGER, "mixed")}, "failed refund r-failed of 150 by original_payment, 150 paid"),
    ("a card payout for no refund", [tx("refund", 50)],
     {(LEDGER, "mixed")}, "50 paid to the card, 0 as store credit for no refund"),
    ("a store-credit refund also paid to the card", [tx("refund", 700, "'r-credit'")],
     {(LEDGER, "mixed")}, "refund r-credit of 700 by store_credit, 700 paid to the card"),
    ("card refunds claimed beyond the card's capture", [refund(1300, "original_payment")],
     {(BEYOND, "mixed")}, "card refunds of 2600 claimed, 2500 captured from the card"),
    ("refunds claimed beyond what was paid", [refund(1100, "store_credit")],
     {(BEYOND, "mixed")}, "refunds of 3100 claimed, 3000 paid (2500 card, 500 credit)"),
    ("a succeeded refund naming no credit note",
     ["UPDATE refunds SET credit_note = NULL WHERE id = 'r-card'"],
     {(NOTE, "mixed")}, "refund r-card names no credit note, its note is CN-2026-000001"),
    ("a succeeded refund naming another's credit note",
     ["UPDATE refunds SET credit_note = 'CN-2026-000002' WHERE id = 'r-card'"],
     {(NOTE, "mixed")}, "names CN-2026-000002, its note is CN-2026-000001"),
    ("a failed refund naming a credit note",
     ["UPDATE refunds SET credit_note = 'CN-2026-000003' WHERE id = 'r-failed'"],
     {(NOTE, "mixed")}, "failed refund r-failed names credit note CN-2026-000003"),
    ("a credit note of no refund",
     [unlocked("documents"),
      "UPDATE documents SET refund_id = NULL WHERE number = 'CN-2026-000003'"],
     {(NOTE, "mixed")}, "credit note CN-2026-000003 is for no refund"),
    ("a credit note referring to another order's invoice",
     [unlocked("documents"), "UPDATE documents SET refers_to = 'INV-2026-000002' "
      "WHERE number = 'CN-2026-000001'"],
     {(NOTE, "mixed")}, "refers to INV-2026-000002, the invoice is INV-2026-000001"),
    ("a balance its entries do not sum to",
     ["UPDATE store_credit_accounts SET balance = balance + 1"],
     {(CREDIT, CUSTOMER)}, "balance 2201, its entries sum to 2200"),
    ("a balance below zero",
     ["ALTER TABLE store_credit_accounts DROP CONSTRAINT store_credit_accounts_balance_check",
      "UPDATE store_credit_accounts SET balance = -5"],
     {(CREDIT, CUSTOMER)}, "balance -5, its entries sum to 2200, below zero"),
    ("an entry whose delta its kind forbids",
     credit("issued", 100, 50),
     {(CREDIT, CUSTOMER)}, "have a delta their kind forbids"),
    ("credit issued for a refund but no order",
     credit("issued", 100, 100, refund="r-credit"),
     {(CREDIT, CUSTOMER)}, "name an order or refund their kind forbids"),
    ("a completed order still holding credit", credit("held", 200, -200, "mixed"),
     {(HELD, "mixed")}, "completed but still holds 200 store credit"),
    ("a cancelled order that never released its credit",
     [unlocked("store_credit_entries"),
      "DELETE FROM store_credit_entries WHERE kind = 'released'",
      "UPDATE store_credit_accounts SET balance = balance - 1000"],
     {(HELD, "withdrawn")}, "cancelled but still holds 1000 store credit"),
    ("more credit released than held", credit("released", 100, 100, "credit"),
     {(HELD, "credit")}, "holds -100 store credit (held 1000, released 100, redeemed 1000)"),
    ("a gap in the invoice numbers",
     [unlocked("documents"),
      f"UPDATE documents SET seq = 3, number = 'INV-2026-000003' {INV_2}",
      "UPDATE document_counters SET last = 3 WHERE series = 'INV'"],
     {(NUMBERS, "INV-2026")}, "2 documents numbered 1 to 3"),
    ("a number not spelled from its seq",
     [unlocked("documents"), f"UPDATE documents SET number = 'INV-2026-2' {INV_2}"],
     {(NUMBERS, "INV-2026")}, "INV-2026-2 not spelled from its kind, seq and year of issue"),
    ("a number of another year than it was issued in",
     [unlocked("documents"), f"UPDATE documents SET issued_at = '2027-01-04T10:00Z' {INV_2}"],
     {(NUMBERS, "INV-2026")}, "INV-2026-000002 not spelled from its kind, seq and year of issue"),
    ("numbers out of the order they were issued in",
     [unlocked("documents"), f"UPDATE documents SET issued_at = '2026-03-01T10:00Z' {INV_2}"],
     {(NUMBERS, "INV-2026")}, "INV-2026-000002 issued before the number preceding it"),
    ("a counter behind its series",
     ["UPDATE document_counters SET last = 2 WHERE series = 'CN'"],
     {(NUMBERS, "CN-2026")}, "the counter at 2, the highest number 3"),
    ("a series without a counter", ["DELETE FROM document_counters WHERE series = 'CN'"],
     {(NUMBERS, "CN-2026")}, "no counter"),
    ("an entry whose debits exceed its credits",
     ["INSERT INTO journal_lines (entry_id, account, debit) VALUES (102, 'cash', 1)"],
     {(JOURNAL, "102")}, "journal entry 102 (story): 4 lines, debits 3001, credits 3000"),
    ("an entry of a single line", [journal(901, None, ("cash", 5, 0))],
     {(JOURNAL, "901")}, "1 lines, debits 5, credits 0"),
    ("an entry without lines",
     [EMPTY_ENTRY.format(id=902, customer=CUSTOMER)],
     {(JOURNAL, "902")}, "0 lines"),
    ("an order paid with credit alone, authorized at the gateway",
     ["INSERT INTO sim_payments (idempotency_key, payment_id, order_id, kind, amount, currency) "
      "VALUES ('{credit}:authorize', 'g-a', '{credit}', 'authorize', 1000, 'EUR')"],
     {(DONE, "credit")}, "1 authorizations"),
    ("an order paid partly with credit, its whole total captured at the gateway",
     ["UPDATE sim_payments SET amount = 3000 "
      "WHERE order_id = '{mixed}' AND kind = 'capture'"],
     {(DONE, "mixed")}, "captured 3000 of a 3000 total less 500 store credit"),
]
# fmt: on


@pytest.mark.parametrize(
    ("statements", "expected", "phrase"),
    [pytest.param(sql, expected, phrase, id=what) for what, sql, expected, phrase in BROKEN],
)
async def test_each_broken_money_invariant_is_reported(
    world: MoneyWorld, statements: list[str], expected: set[tuple[Invariant, str]], phrase: str
) -> None:
    await run_sql(world, *statements)

    found = await check(world.sessions, require_terminal=True)

    assert {(v.kind, v.subject) for v in found} == {(k, world.name(s)) for k, s in expected}
    assert any(phrase in v.message for v in found), [str(v) for v in found]


@pytest.mark.parametrize("table", ["payment_transactions", "store_credit_entries", "documents"])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET order_id = order_id", "DELETE FROM {table}"]
)
async def test_the_ledgers_refuse_updates_and_deletes(
    world: MoneyWorld, table: str, statement: str
) -> None:
    verb = statement.split()[0]

    with pytest.raises(DBAPIError, match=f"{table} is append-only: {verb} refused"):
        await run_sql(world, statement.replace("{table}", table))
