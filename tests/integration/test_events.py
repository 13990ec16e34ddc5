"""The outbox and its feed against the real PostgreSQL: an event commits with its change or not
at all, each aggregate's events are numbered 1, 2, 3, and a consumer following the feed's
cursor sees every committed event exactly once, even when transactions commit out of order."""

import asyncio
import random
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.cursor import encode_event_cursor
from db import events, snapshots
from db.events import FeedPosition
from db.models import EventRecord, OrderRecord, ShipmentRecord
from db.session import SessionFactory
from integration.catalog import EventType
from tests.harness.orders import MakeOrderBody, MakeSku

pytestmark = pytest.mark.integration
CHANGED = EventType.ORDER_CHANGED  # any type: emit does not look at the order


async def head(sessions: SessionFactory) -> FeedPosition | None:
    """Where the feed ends now: a consumer starting here sees only what comes next."""
    position = None
    async with sessions() as session:
        while page := await events.feed(session, position, 500):
            position = events.position_of(page[-1])
    return position


async def follow(
    sessions: SessionFactory, after: FeedPosition | None, limit: int = 500
) -> tuple[list[EventRecord], FeedPosition | None]:
    async with sessions() as session:
        page = list(await events.feed(session, after, limit))
    return page, events.position_of(page[-1]) if page else after


async def test_an_event_of_a_rolled_back_change_is_never_written(sessions: SessionFactory) -> None:
    aggregate = f"rollback-{uuid4()}"

    async def change_that_fails() -> None:
        async with sessions.begin() as session:
            await events.emit(session, CHANGED, aggregate, {"n": 1})
            raise RuntimeError("the change failed after its event was written")

    with pytest.raises(RuntimeError):
        await change_that_fails()

    async with sessions() as session:
        found = await session.scalars(
            select(EventRecord).where(EventRecord.aggregate_id == aggregate)
        )
        assert found.all() == []


async def test_an_aggregates_events_are_numbered_one_two_three(sessions: SessionFactory) -> None:
    aggregate = f"numbered-{uuid4()}"
    for n in range(3):
        async with sessions.begin() as session:
            await events.emit(session, CHANGED, aggregate, {"n": n})

    async with sessions() as session:
        rows = await session.scalars(
            select(EventRecord)
            .where(EventRecord.aggregate_id == aggregate)
            .order_by(EventRecord.id)
        )
        assert [(row.seq, row.data["n"]) for row in rows] == [(1, 0), (2, 1), (3, 2)]


async def test_the_feed_waits_for_a_transaction_that_commits_after_a_later_one(
    sessions: SessionFactory,
) -> None:
    start = await head(sessions)
    early, late = f"early-{uuid4()}", f"late-{uuid4()}"
    async with sessions() as slow:
        await slow.begin()
        await events.emit(slow, CHANGED, early, {})  # takes the smaller id, commits last
        async with sessions.begin() as fast:
            await events.emit(fast, CHANGED, late, {})

        while_open, _ = await follow(sessions, start)
        await slow.commit()
    after_commit, _ = await follow(sessions, start)

    assert while_open == []  # a naive `id > last` would have served `late` and skipped `early`
    assert [e.aggregate_id for e in after_commit] == [early, late]


async def test_a_consumer_following_the_cursor_sees_every_event_of_racing_writers_once(
    sessions: SessionFactory,
) -> None:
    start, run = await head(sessions), uuid4().hex
    written: list[int] = []

    async def writer(w: int) -> None:
        rng = random.Random(w)
        for n in range(25):
            async with sessions.begin() as session:
                await events.emit(session, CHANGED, f"race-{run}-{w}", {"n": n})
                ids = await session.scalars(
                    select(EventRecord.id).where(EventRecord.aggregate_id == f"race-{run}-{w}")
                )
                written.append(max(ids.all()))
                await asyncio.sleep(rng.random() * 0.02)  # commit late, out of id order

    seen: list[int] = []
    writers = asyncio.gather(*(writer(w) for w in range(6)))
    position = start
    while not writers.done():
        page, position = await follow(sessions, position, limit=7)
        seen += [e.id for e in page if e.aggregate_id.startswith(f"race-{run}")]
        await asyncio.sleep(0.003)
    await writers
    while page := (await follow(sessions, position))[0]:
        position = events.position_of(page[-1])
        seen += [e.id for e in page if e.aggregate_id.startswith(f"race-{run}")]

    assert len(seen) == len(set(seen)) == 150  # none twice
    assert set(seen) == set(written)  # none missed


async def test_the_feed_over_http_pages_by_cursor_and_filters_by_type(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    start = await head(sessions)
    body = order_body(await new_sku(5))
    order = (await api.post("/v1/orders", json=body)).json()
    params: dict[str, str | int] = {"types": "order.created,customer.updated", "limit": 1}
    if start is not None:
        params["after"] = encode_event_cursor(start)

    first = (await api.get("/v1/events", params=params)).json()
    second = (await api.get("/v1/events", params=params | {"after": first["next_cursor"]})).json()
    rest = (await api.get("/v1/events", params=params | {"after": second["next_cursor"]})).json()

    created, updated = first["items"][0], second["items"][0]
    assert created["type"] == "order.created"
    assert created["id"].startswith("evt_")
    assert created["aggregate"] == {"type": "order", "id": order["id"], "sequence": 1}
    assert created["data"]["order"]["lines"][0]["sku"] == body["lines"][0]["sku"]
    assert created["data"]["order"]["customer"] == body["customer"]
    assert updated["type"] == "customer.updated"
    assert updated["data"]["customer"]["id"] == body["customer"]["id"]
    assert updated["data"]["customer"]["orders_count"] == 1
    assert rest["items"] == []
    assert rest["next_cursor"] == second["next_cursor"]


async def test_the_feed_refuses_an_unknown_type_and_a_forged_cursor(api: httpx.AsyncClient) -> None:
    unknown = await api.get("/v1/events", params={"types": "order.created,order.teleported"})
    forged = await api.get("/v1/events", params={"after": "bm90IGEgY3Vyc29y"})

    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "types"]
    assert forged.status_code == 422
    assert forged.json()["detail"][0]["loc"] == ["query", "after"]


async def test_the_databases_order_snapshot_is_the_one_the_readme_documents(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody, sessions: SessionFactory
) -> None:
    """Events carry `order_snapshot` (SQL, built in the statement that writes them); README's
    examples come from `snapshots.order` (Python): the same JSON for the same order."""
    body = order_body(await new_sku(5), await new_sku(5))
    order_id = (await api.post("/v1/orders", json=body)).json()["id"]
    async with sessions.begin() as session:
        for n in (2, 1):  # two shipments, added out of id order
            session.add(ShipmentRecord(id=f"shp-{order_id}-{n}", order_id=order_id,
                                       carrier="SimPost", tracking_number=f"SP{n}",
                                       status="in_transit"))  # fmt: skip

    async with sessions() as session:
        from_sql = await session.scalar(select(func.order_snapshot(order_id)))
        record = await session.scalar(
            select(OrderRecord)
            .where(OrderRecord.id == order_id)
            .options(selectinload(OrderRecord.lines), selectinload(OrderRecord.shipments))
        )
    assert record is not None
    assert from_sql == snapshots.order(record)
    assert [s["tracking_number"] for s in from_sql["shipments"]] == ["SP1", "SP2"]
    assert len(from_sql["lines"]) == 2
