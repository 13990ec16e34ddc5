"""The money story db.money_invariants and db.ledger_invariants are tested on, on top of the
fulfilment story (invariants_story.py): three orders placed after migration 0005, with their
money written by hand in SQL, exactly as the money code is meant to leave it.

- mixed (3000, 500 of it store credit): the card authorized and captured 2500; 500 credit held
  then redeemed; invoiced; refunded 1000 and 200 to the card and 700 as store credit (each with
  its credit note), a 150 card refund declined, a 100 card refund still pending.
- credit (1000, all store credit): no gateway call at all; credit held and redeemed; invoiced.
- withdrawn (1000, all store credit): cancelled; its held credit released.
A goodwill credit of 3000 (no order) funds it all: the balance ends at 2200.
"""

from dataclasses import dataclass

from sqlalchemy import text

from db.session import SessionFactory
from tests.harness.invariants_story import A, B, Story, World, tell

CUSTOMER = "cust-invariants"  # every order of invariants_story.py is this customer's


@dataclass(frozen=True)
class MoneyWorld:
    """Both stories; `name()` knows every order of either."""

    base: World
    mixed: str
    credit: str
    withdrawn: str

    @property
    def sessions(self) -> SessionFactory:
        return self.base.sessions

    def name(self, key: str) -> str:
        """`mixed` → that order's id; anything else (a customer, a series) stays itself."""
        named: str = getattr(self, key, None) or self.base.name(key)
        return named


def _day(day: int) -> str:
    return f"'2026-03-{day:02d} 10:00:00+00'"


def _document(number: str, order: str, refund: str | None, day: int, total: int, card: int) -> str:
    """An invoice (no refund) or a credit note (referring to the mixed order's invoice)."""
    kind, refers_to = ("invoice", "NULL") if refund is None else ("credit_note", INVOICE)
    series, year, seq = number.split("-")
    tax = total * 19 // 119
    return (
        "INSERT INTO documents (number, kind, series, year, seq, order_id, refund_id, refers_to, "
        "issued_at, currency, seller, buyer, lines, tax_breakdown, net_total, tax_total, total, "
        f"paid_card, paid_store_credit) VALUES ('{number}', '{kind}', '{series}', {year}, "
        f"{int(seq)}, '{{{order}}}', {'NULL' if refund is None else repr(refund)}, {refers_to}, "
        f"{_day(day)}, 'EUR', jsonb_build_object(), jsonb_build_object(), jsonb_build_array(), "
        f"jsonb_build_array(), {total - tax}, {tax}, {total}, {card}, {total - card})"
    )


def _credit(kind: str, amount: int, delta: int, order: str | None, refund: str | None) -> str:
    """An entry of `order` (mixed, credit, withdrawn; None: goodwill) and `refund`."""
    of = "NULL" if order is None else f"'{{{order}}}'"
    links = f"{of}, {'NULL' if refund is None else repr(refund)}"
    key = f"{order or 'goodwill'}:{kind}:{refund or ''}"
    return (
        "INSERT INTO store_credit_entries (customer_id, currency, kind, amount, delta, order_id, "
        f"refund_id, reason, actor, idempotency_key) VALUES ('{CUSTOMER}', 'EUR', '{kind}', "
        f"{amount}, {delta}, {links}, 'story', 'test', '{key}')"
    )


def _refund(refund: str, status: str, amount: int, method: str, note: str | None) -> str:
    return (
        "INSERT INTO refunds (id, order_id, status, amount, currency, method, reason, "
        "credit_note, requested_by, request_hash, created_at) VALUES "
        f"('{refund}', '{{mixed}}', '{status}', {amount}, 'EUR', '{method}', 'story', "
        f"{'NULL' if note is None else repr(note)}, 'support', '-', {_day(3)})"
    )


def _tx(kind: str, amount: int, key: str, refund: str = "", outcome: str = "succeeded") -> str:
    return (
        "INSERT INTO payment_transactions (order_id, kind, amount, currency, outcome, "
        f"idempotency_key, refund_id) VALUES ('{{mixed}}', '{kind}', {amount}, 'EUR', "
        f"'{outcome}', '{key}', {repr(refund) if refund else 'NULL'})"
    )


def journal(entry: int, order: str | None, *lines: tuple[str, int, int]) -> str:
    """Entry `entry` (an explicit id) of `order` (a placeholder, or None) with its lines."""
    of = "NULL" if order is None else f"'{{{order}}}'"
    values = ", ".join(f"('{account}', {debit}, {credit})" for account, debit, credit in lines)
    return (
        "WITH e AS (INSERT INTO journal_entries (id, kind, currency, order_id, customer_id, "
        f"description, idempotency_key, at) VALUES ({entry}, 'story', 'EUR', {of}, "
        f"'{CUSTOMER}', 'story', 'journal-{entry}', {_day(1)}) RETURNING id) "
        "INSERT INTO journal_lines (entry_id, account, debit, credit) "
        f"SELECT id, account, debit, credit FROM e, (VALUES {values}) AS l(account, debit, credit)"
    )


INVOICE = "'INV-2026-000001'"
CARD, CREDIT = "original_payment", "store_credit"

# The money, in the order the code would write it; `{mixed}` etc. are the orders' ids.
MONEY = [
    "UPDATE orders SET store_credit = 500 WHERE id = '{mixed}'",
    "UPDATE orders SET store_credit = total WHERE id IN ('{credit}', '{withdrawn}')",
    "INSERT INTO store_credit_accounts (customer_id, currency, balance) "
    f"VALUES ('{CUSTOMER}', 'EUR', 2200)",
    _credit("issued", 3000, 3000, None, None),  # goodwill
    "INSERT INTO payments (order_id, currency, status, captured, refunded, store_credit) VALUES "
    "('{mixed}', 'EUR', 'partially_refunded', 2500, 1900, 500), "
    "('{credit}', 'EUR', 'captured', 0, 0, 1000), ('{withdrawn}', 'EUR', 'voided', 0, 0, 1000)",
    *(
        _credit("held", amount, -amount, order, None)
        for order, amount in (("mixed", 500), ("credit", 1000), ("withdrawn", 1000))
    ),
    _credit("released", 1000, 1000, "withdrawn", None),
    _tx("authorize", 2500, "mixed:authorize"),
    _tx("capture", 2500, "mixed:capture"),
    _credit("redeemed", 500, 0, "mixed", None),
    _document("INV-2026-000001", "mixed", None, 2, 3000, 2500),
    _credit("redeemed", 1000, 0, "credit", None),
    _document("INV-2026-000002", "credit", None, 5, 1000, 0),
    _refund("r-card", "succeeded", 1000, CARD, "CN-2026-000001"),
    _refund("r-credit", "succeeded", 700, CREDIT, "CN-2026-000002"),
    _refund("r-card-2", "succeeded", 200, CARD, "CN-2026-000003"),
    _refund("r-failed", "failed", 150, CARD, None),
    _refund("r-pending", "pending", 100, CARD, None),
    _tx("refund", 1000, "r-card:refund", "r-card"),
    _tx("refund", 200, "r-card-2:refund", "r-card-2"),
    _tx("refund", 150, "r-failed:refund", "r-failed", outcome="declined"),
    _credit("issued", 700, 700, "mixed", "r-credit"),
    _document("CN-2026-000001", "mixed", "r-card", 3, 1000, 1000),
    _document("CN-2026-000002", "mixed", "r-credit", 4, 700, 0),
    _document("CN-2026-000003", "mixed", "r-card-2", 6, 200, 200),
    "INSERT INTO document_counters (series, year, last) VALUES ('INV', 2026, 2), ('CN', 2026, 3)",
    # The customer view sums the documents above: 3000 + 1000 invoiced, 1900 credited.
    "INSERT INTO customer_spend (customer_id, currency, invoiced, credited) "
    f"VALUES ('{CUSTOMER}', 'EUR', 4000, 1900) ON CONFLICT (customer_id, currency) DO UPDATE "
    "SET invoiced = customer_spend.invoiced + 4000, credited = customer_spend.credited + 1900",
    journal(101, None, ("goodwill", 3000, 0), ("store_credit", 0, 3000)),
    journal(102, "mixed", ("receivable", 3000, 0), ("revenue", 0, 2521), ("vat", 0, 479)),
    journal(103, "mixed", ("cash", 2500, 0), ("store_credit", 500, 0), ("receivable", 0, 3000)),
    journal(104, "mixed", ("revenue", 1000, 0), ("cash", 0, 1000)),
]

# The gateway's own books: the two card refunds it paid (the declined one left nothing there).
GATEWAY_REFUNDS = (
    "INSERT INTO sim_payments (idempotency_key, payment_id, order_id, kind, amount, currency) "
    "VALUES ('r-card:refund', 'g-r1', '{mixed}', 'refund', 1000, 'EUR'), "
    "('r-card-2:refund', 'g-r2', '{mixed}', 'refund', 200, 'EUR')"
)


async def tell_money(story: Story) -> MoneyWorld:
    """Both stories, fulfilment through the real code, money in plain SQL."""
    base = await tell(story)
    mixed = await story.order("completed", {A: 2, B: 1})
    await story.authorize(mixed, 2500)  # the card pays the total less the store credit
    await story.ship(mixed)
    await story.gateway.capture(mixed, 2500, "EUR", f"{mixed}:capture")
    credit = await story.order("completed", {B: 1})
    await story.warehouse.pick(credit, [])  # no authorization: the credit pays it all
    await story.warehouse.pack(credit, [])
    await story.ship(credit)
    withdrawn = await story.order("cancelled", {A: 1})
    await story.undo(withdrawn)
    world = MoneyWorld(base, mixed, credit, withdrawn)
    await run_sql(world, *MONEY, GATEWAY_REFUNDS)
    return world


async def run_sql(world: MoneyWorld, *statements: str) -> None:
    """Each statement with `{mixed}` (and the other orders' names) filled in, in one transaction."""
    names = {key: world.name(key) for key in ("mixed", "credit", "withdrawn")}
    async with world.sessions.begin() as session:
        for statement in statements:
            await session.execute(text(statement.format(**names)))
