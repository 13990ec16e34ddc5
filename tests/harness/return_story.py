"""The story db.return_invariants is tested on, every row written by the real code
(return_rows.py), every order and return finished:

- sold (A 2, B 2; 4000 by card):
  - refunded: a return of 2 A, one back resellable and one damaged: 2000 back to the card.
  - exchanged: a return of 1 B for 1 A: the B back on the shelf pays the A as store credit;
    the replacement order `exchange` completed, paid by that credit alone.
  - reshipped: a claim (missing) of 1 B: the zero-priced order `reship` completed.
- kept (A 1, B 2; 3000 by card):
  - advanced: an advance exchange of 1 A for 1 B: the replacement `advance` shipped at once, the
    card authorized for it; the A arrived damaged and paid it all: the authorization voided.
  - lapsed: a return of 1 B for store credit that never arrived: expired, its label voided.
  - credited: a claim (damaged in transit) of 1 B: 1000 as store credit.
  - support refunded the last 1000 as store credit, so the return `refused` of the other B
    completed with its refund refused (nothing was left to refund), as its history says.
Claims are written `completed`, resolved in the same transaction, as the API writes them.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import SessionFactory, create_engine, create_session_factory
from db.stock import StockRepository
from settings import Settings
from tests.harness.return_rows import PRICE, A, B, R, ReturnStory, S
from tests.harness.servers import new_database
from tests.harness.servers import rolled_back as transaction_rolled_back
from workflows.return_contracts import Condition


@dataclass(frozen=True)
class ReturnWorld:
    """The story's orders (sold, kept; exchange, reship, advance) and returns, by name."""

    sessions: SessionFactory
    sold: str
    kept: str
    exchange: str
    reship: str
    advance: str
    refunded: str
    exchanged: str
    reshipped: str
    advanced: str
    lapsed: str
    credited: str
    refused: str

    def name(self, key: str) -> str:
        """`sold` → that order's id, `refunded` → that return's; a SKU stays itself."""
        named: str = getattr(self, key, key)
        return named


async def tell_returns(sessions: SessionFactory) -> ReturnWorld:
    """The story above, in the order the system would write it."""
    story = ReturnStory(sessions)
    async with sessions.begin() as session:
        for sku in (A, B):
            await StockRepository(session).set_on_hand(sku, 20, actor="test")
    return ReturnWorld(sessions, **await _sold(story), **await _kept(story))


async def _sold(story: ReturnStory) -> dict[str, str]:
    sold = await story.sold({A: 2, B: 2})
    refunded = await story.ask(sold, R.REFUND, {A: 2})
    await story.move(refunded, S.APPROVED, S.AWAITING_RECEIPT)
    await story.receive(refunded, Condition.RESELLABLE, {A: 1})
    await story.receive(refunded, Condition.DAMAGED, {A: 1})  # partial receipts add up
    await story.move(refunded, S.RECEIVED)
    await story.resolve(refunded)
    await story.move(refunded, S.COMPLETED)
    exchanged = await story.ask(sold, R.EXCHANGE, {B: 1}, exchange={A: 1})
    await story.move(exchanged, S.APPROVED, S.AWAITING_RECEIPT)
    await story.receive(exchanged, Condition.RESELLABLE, {B: 1})
    await story.move(exchanged, S.RECEIVED)
    exchange = (await story.resolve(exchanged)).order
    await story.move(exchanged, S.COMPLETED)
    reshipped = await story.ask(sold, R.RESHIP, {B: 1}, claim="missing")
    reship = (await story.resolve(reshipped)).order
    assert exchange is not None
    assert reship is not None
    orders = {"sold": sold, "exchange": exchange.id, "reship": reship.id}
    return orders | {"refunded": refunded, "exchanged": exchanged, "reshipped": reshipped}


async def _kept(story: ReturnStory) -> dict[str, str]:
    kept = await story.sold({A: 1, B: 2})
    advanced = await story.ask(kept, R.EXCHANGE, {A: 1}, exchange={B: 1}, advance=True)
    await story.move(advanced, S.APPROVED, S.AWAITING_RECEIPT)
    advance = await story.advance_exchange(advanced)
    await story.receive(advanced, Condition.DAMAGED, {A: 1})
    await story.move(advanced, S.RECEIVED)
    await story.settle(advanced)
    await story.move(advanced, S.COMPLETED)
    lapsed = await story.ask(kept, R.STORE_CREDIT, {B: 1})
    await story.move(lapsed, S.APPROVED, S.AWAITING_RECEIPT)
    await story.carrier.void_return_label(lapsed)
    await story.move(lapsed, S.EXPIRED)
    credited = await story.ask(kept, R.STORE_CREDIT, {B: 1}, claim="damaged_in_transit")
    await story.resolve(credited)
    await story.support_refund(kept, PRICE)
    refused = await story.ask(kept, R.REFUND, {B: 1})
    await story.move(refused, S.APPROVED, S.AWAITING_RECEIPT)
    await story.receive(refused, Condition.RESELLABLE, {B: 1})
    await story.move(refused, S.RECEIVED)
    note = (await story.resolve(refused)).note
    assert note is not None
    assert note.startswith("not refunded: "), note
    await story.move(refused, S.COMPLETED, reason=note)
    returns = {"advanced": advanced, "lapsed": lapsed, "credited": credited, "refused": refused}
    return {"kept": kept, "advance": advance} | returns


@asynccontextmanager
async def told_in_a_database(
    postgres_url: str, name: str
) -> AsyncIterator[tuple[AsyncEngine, ReturnWorld]]:
    """The story, written (and committed) once into a new database of its own (a module's)."""
    engine = create_engine(Settings(database_url=new_database(postgres_url, name)))
    try:
        yield engine, await tell_returns(create_session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def rolled_back(engine: AsyncEngine, story: ReturnWorld) -> AsyncIterator[ReturnWorld]:
    """The story in one transaction that is rolled back afterwards: a test breaks it freely."""
    async with transaction_rolled_back(engine) as sessions:
        yield replace(story, sessions=sessions)
