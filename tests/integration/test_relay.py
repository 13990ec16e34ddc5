"""The relay on a database of its own: which events become which customer e-mails (and which do
not), fan-out to subscribed endpoints only, each once however often it runs, and the SLA's
`order.delayed` recorded once whatever the retries."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from activities.projection import ProjectionActivities
from db import events
from db.models import EventRecord, NotificationRecord, OrderRecord, WebhookDeliveryRecord
from db.session import SessionFactory, create_engine, create_session_factory
from db.stock import StockRepository
from integration.catalog import EventType
from integration.relay import Relay
from settings import Settings
from tests.harness.invariants_story import Story
from tests.harness.servers import new_database
from tests.harness.webhooks import new_endpoint
from workflows.integration_contracts import RecordDelayInput

pytestmark = pytest.mark.integration
E = EventType
SHIPPED = E.ORDER_SHIPPED.value


@pytest.fixture(scope="module")
async def own_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=new_database(postgres_url, "relay")))
    yield engine
    await engine.dispose()


@pytest.fixture
def own(own_engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(own_engine)


@pytest.fixture
def relay(own: SessionFactory, temporal_env: WorkflowEnvironment, settings: Settings) -> Relay:
    mailing = settings.model_copy(update={"smtp_url": SecretStr("smtp://127.0.0.1:1")})  # unused
    return Relay(temporal_env.client, own, mailing)


async def an_order(own: SessionFactory) -> OrderRecord:
    sku = f"SKU-{uuid4().hex[:10]}"
    async with own.begin() as session:
        await StockRepository(session).set_on_hand(sku, 5, actor="test")
    order_id = await Story(own).order("pending", {sku: 1})
    async with own() as session:
        return await session.get_one(OrderRecord, order_id)


async def emit(own: SessionFactory, event: EventType, aggregate: str, data: dict[str, Any]) -> None:
    async with own.begin() as session:
        await events.emit(session, event, aggregate, data)


async def mails_of(own: SessionFactory, order_id: str) -> list[str]:
    async with own() as session:
        kinds = await session.scalars(
            select(NotificationRecord.kind)
            .where(NotificationRecord.order_id == order_id)
            .order_by(NotificationRecord.event_id)
        )
        return list(kinds)


def moved(order: OrderRecord, before: str, after: str) -> dict[str, Any]:
    snapshot = {"id": order.id, "customer": {"email": order.customer_email}}
    return {"order": snapshot, "from": before, "to": after, "reason": None}


async def test_each_customer_facing_move_makes_one_mail_and_a_release_from_hold_none(
    own: SessionFactory, relay: Relay
) -> None:
    order = await an_order(own)
    moves = [("pending", "backordered"), ("backordered", "reserved"), ("reserved", "on_hold")]
    moves += [("on_hold", "reserved"), ("reserved", "picked")]
    for before, after in moves:
        await emit(own, E.ORDER_STATUS_CHANGED, order.id, moved(order, before, after))
    for shipped in (E.ORDER_SHIPPED, E.ORDER_DELIVERED, E.ORDER_DELAYED):
        await emit(own, shipped, order.id, {"order": {"id": order.id}})

    await relay.fan_out()
    await relay.fan_out()  # again: nothing new

    kinds = await mails_of(own, order.id)
    assert kinds == ["backordered", "confirmed", "shipped", "delivered", "delayed"]
    async with own() as session:
        notes = (
            await session.scalars(
                select(NotificationRecord).where(NotificationRecord.order_id == order.id)
            )
        ).all()
    assert {n.to_address for n in notes} == {order.customer_email}
    assert {n.language for n in notes} == {"en"}  # the story ships to no country: English
    assert len({n.message_id for n in notes}) == 5


async def test_an_event_reaches_the_endpoints_subscribed_to_it_once(
    own: SessionFactory, relay: Relay, settings: Settings
) -> None:
    everything, _ = await new_endpoint(own, settings, "https://93.184.216.34/all")
    shipped_only, _ = await new_endpoint(
        own, settings, "https://93.184.216.34/s", ["order.shipped"]
    )
    order = await an_order(own)
    await emit(own, E.ORDER_SHIPPED, order.id, {"order": {"id": order.id}})

    await relay.fan_out()
    await relay.fan_out()

    async with own() as session:
        rows = await session.execute(
            select(WebhookDeliveryRecord.endpoint_id, EventRecord.type)
            .join(EventRecord, EventRecord.id == WebhookDeliveryRecord.event_id)
            .where(WebhookDeliveryRecord.endpoint_id.in_([everything, shipped_only]))
        )
        delivered = sorted((endpoint, kind) for endpoint, kind in rows)
    created = [(everything, "order.created")]  # the story's order was placed as the API does
    assert [d for d in delivered if d[1] != "customer.updated"] == sorted(
        [*created, (everything, "order.shipped"), (shipped_only, "order.shipped")]
    )


async def test_the_sla_delay_is_recorded_once_however_often_the_activity_runs(
    own: SessionFactory,
) -> None:
    order = await an_order(own)
    due = datetime.now(UTC) - timedelta(hours=1)
    projection = ProjectionActivities(own)

    for _ in range(3):  # retried after a lost reply, twice
        await projection.record_delay(RecordDelayInput(order_id=order.id, due_at=due))

    async with own() as session:
        delayed = (
            await session.scalars(
                select(EventRecord).where(
                    EventRecord.aggregate_id == order.id, EventRecord.type == E.ORDER_DELAYED
                )
            )
        ).all()
        late_at = (await session.get_one(OrderRecord, order.id)).late_at
    assert len(delayed) == 1
    assert delayed[0].data["due_at"] == due.isoformat()
    assert delayed[0].data["order"]["id"] == order.id
    assert late_at is not None


async def test_an_orders_placement_is_one_created_event_and_the_customer_counted(
    own: SessionFactory,
) -> None:
    order = await an_order(own)
    another = await an_order(own)  # the story's orders share one customer

    async with own() as session:
        types = (
            await session.scalars(
                select(EventRecord.type)
                .where(EventRecord.aggregate_id.in_([order.id, order.customer_id]))
                .order_by(EventRecord.id)
            )
        ).all()
        last = await session.scalar(
            select(EventRecord)
            .where(EventRecord.aggregate_id == order.customer_id)
            .order_by(EventRecord.seq.desc())
            .limit(1)
        )
    assert types.count("order.created") == 1
    assert last is not None
    assert last.data["customer"]["orders_count"] >= 2
    assert another.customer_id == order.customer_id
