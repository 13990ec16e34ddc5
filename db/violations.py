"""What an invariant check reports, and the scope its queries share.

A module of its own so that db/invariants.py (which runs every check) and the modules holding
some of them (db/money_invariants.py, db/return_invariants.py, …) can both import it without
importing each other.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession


class Invariant(StrEnum):
    NOT_TERMINAL = "not_terminal"
    DUPLICATE = "duplicate"
    RESERVED_OUT_OF_BOUNDS = "reserved_out_of_bounds"
    RESERVED_MISMATCH = "reserved_mismatch"
    ON_HAND_MISMATCH = "on_hand_mismatch"
    BOOK_OUT_MISMATCH = "book_out_mismatch"
    COMPLETED_INCOMPLETE = "completed_incomplete"
    NOT_COMPENSATED = "not_compensated"
    # money (db/money_invariants.py)
    BOOKS_MISMATCH = "books_mismatch"
    PAYMENT_LEDGER_MISMATCH = "payment_ledger_mismatch"
    REFUND_BEYOND_CAPTURE = "refund_beyond_capture"
    CREDIT_NOTE_MISMATCH = "credit_note_mismatch"
    STORE_CREDIT_MISMATCH = "store_credit_mismatch"
    CREDIT_HELD_BY_TERMINAL_ORDER = "credit_held_by_terminal_order"
    DOCUMENT_NUMBERING = "document_numbering"
    JOURNAL_UNBALANCED = "journal_unbalanced"
    # stock and returns (db/return_invariants.py; damaged stock in db/invariants.py)
    DAMAGED_MISMATCH = "damaged_mismatch"
    RETURNED_BEYOND_SHIPPED = "returned_beyond_shipped"
    RETURN_STOCK_MISMATCH = "return_stock_mismatch"
    RETURN_REFUND_MISMATCH = "return_refund_mismatch"
    REPLACEMENT_MISMATCH = "replacement_mismatch"
    # events and the customer view (db/integration_invariants.py)
    EVENT_SEQUENCE_GAPPED = "event_sequence_gapped"
    ORDER_EVENTS_MISMATCH = "order_events_mismatch"
    CUSTOMER_VIEW_MISMATCH = "customer_view_mismatch"


@dataclass(frozen=True, kw_only=True)
class Violation:
    """One broken invariant: its kind, what it is about (an order, a SKU, a customer, a document
    series or a journal entry; a return's violations are about its order), and why."""

    kind: Invariant
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


# One invariant check: the violations among the scoped order ids (None: everywhere).
Check = Callable[[AsyncSession, list[str] | None], Awaitable[list[Violation]]]

# `:ids` is NULL (every order) or an array of order ids; SKU checks then cover their SKUs, and
# customer checks their customers.
IDS = "CAST(:ids AS text[])"
_ORDERS = f"({IDS} IS NULL OR {{col}} = ANY({IDS}))"
_SKUS = f"({IDS} IS NULL OR {{col}} IN (SELECT sku FROM order_lines WHERE order_id = ANY({IDS})))"
_CUSTOMERS = f"({IDS} IS NULL OR {{col}} IN (SELECT customer_id FROM orders WHERE id = ANY({IDS})))"


def scoped_sql(template: str) -> TextClause:
    """A query whose `{orders}`/`{skus}`/`{customers}` placeholders become the scope above, on
    column `c`, and whose `{ids}` is the ids themselves."""
    return text(
        template.format(
            ids=IDS,
            orders=_ORDERS.format(col="c"),
            skus=_SKUS.format(col="c"),
            customers=_CUSTOMERS.format(col="c"),
        )
    )


def listing(
    kind: Invariant, query: TextClause, message: str, params: Mapping[str, object] | None = None
) -> Check:
    """A check reporting each row of `query` (about its `order_id`) as a violation of `kind`,
    `message` filled with the row's columns."""

    async def listed(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
        rows = await session.execute(query, {"ids": ids, **(params or {})})
        return [
            Violation(kind=kind, subject=r.order_id, message=message.format(**r._mapping))
            for r in rows
        ]

    return listed


class Gapped(Protocol):
    """A row as a check sees it: what it is about, and its gaps ("" for each that is not)."""

    @property
    def order_id(self) -> str | None: ...

    def about(self) -> str: ...

    def gaps(self) -> list[str]: ...


def gapped(
    kind: Invariant,
    query: TextClause,
    shape: Callable[..., Gapped],
    params: Mapping[str, object] | None = None,
) -> Check:
    """A check reporting each row of `query`, read as `shape`, that has gaps: one violation of
    `kind` naming them all."""

    async def checked(session: AsyncSession, ids: list[str] | None) -> list[Violation]:
        found: list[Violation] = []
        for row in await session.execute(query, {"ids": ids, **(params or {})}):
            it = shape(**row._mapping)
            if gaps := [gap for gap in it.gaps() if gap]:
                message = f"order {it.order_id}: {it.about()}: {', '.join(gaps)}"
                found.append(Violation(kind=kind, subject=it.order_id or "", message=message))
        return found

    return checked
