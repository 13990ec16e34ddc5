"""The relay's own first try at a delivery (integration/dispatch.py), on a database of its own, a
real receiver on 127.0.0.1 and the time-skipping server for what it hands on: a delivery the
receiver takes costs no workflow; one it refuses goes on in a workflow from the second attempt;
leases keep two relays from posting the same delivery; an endpoint that just failed is not tried
first again."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from db import leases, webhooks
from db.models import WebhookAttemptRecord, WebhookDeliveryRecord
from db.session import SessionFactory, create_engine, create_session_factory
from integration.dispatch import Dispatcher
from settings import Settings
from tests.harness.receiver import Reply, Seen, receiving
from tests.harness.servers import new_database
from tests.harness.webhooks import delivery_worker, has_workflow, new_deliveries, new_endpoint
from workflows.integration_contracts import AttemptOutcome, delivery_workflow_id
from workflows.webhook_delivery import wait_after

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def own_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=new_database(postgres_url, "dispatch")))
    yield engine
    await engine.dispose()


@pytest.fixture
async def own(own_engine: AsyncEngine) -> SessionFactory:
    """The module's database, with every delivery of earlier tests handed off."""
    sessions = create_session_factory(own_engine)
    async with sessions.begin() as session:
        await session.execute(update(WebhookDeliveryRecord).values(started=True))
    return sessions


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private": True})  # a local receiver


async def rows(own: SessionFactory, ids: list[str]) -> list[WebhookDeliveryRecord]:
    async with own() as session:
        found = await session.scalars(
            select(WebhookDeliveryRecord)
            .where(WebhookDeliveryRecord.id.in_(ids))
            .order_by(WebhookDeliveryRecord.created_at)
        )
        return list(found)


async def lease(own: SessionFactory, delivery_id: str, left: timedelta) -> None:
    """The delivery as another relay's claim leaves it: held for `left` more."""
    async with own.begin() as session:
        await session.execute(
            update(WebhookDeliveryRecord)
            .where(WebhookDeliveryRecord.id == delivery_id)
            .values(claimed_until=func.now() + left)
        )


async def test_a_delivery_the_receiver_takes_is_posted_by_the_relay_and_needs_no_workflow(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    async with receiving(Reply(status=204)) as receiver:
        endpoint_id, _ = await new_endpoint(own, hook_settings, receiver.url())
        ids = await new_deliveries(own, endpoint_id, count=3)
        taken = await Dispatcher(time_env.client, own, hook_settings).deliver()

    assert taken == 3
    assert [r.status for r in await rows(own, ids)] == ["succeeded"] * 3
    assert [(r.attempts, r.started, r.claimed_until) for r in await rows(own, ids)] == [
        (1, True, None)
    ] * 3
    assert len(receiver.requests) == 3
    assert [await has_workflow(time_env.client, delivery_workflow_id(d)) for d in ids] == [
        False
    ] * 3


async def test_a_refused_first_try_goes_on_in_a_workflow_from_the_second_attempt(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    answers = iter([503, 200])

    async def answer(seen: Seen) -> Reply:
        return Reply(status=next(answers))

    async with (
        receiving() as receiver,
        delivery_worker(time_env, own, hook_settings) as queue,
    ):
        receiver.answer = answer
        relayed = hook_settings.model_copy(update={"task_queue": queue})
        endpoint_id, _ = await new_endpoint(own, relayed, receiver.url())
        [delivery_id] = await new_deliveries(own, endpoint_id)
        await Dispatcher(time_env.client, own, relayed).deliver()
        [after_first] = await rows(own, [delivery_id])
        handle = time_env.client.get_workflow_handle(delivery_workflow_id(delivery_id))
        outcome = await handle.result()  # time skips the 5 s wait
    async with own() as session:
        attempts = await webhooks.attempts(session, delivery_id)

    assert (after_first.status, after_first.attempts, after_first.started) == ("pending", 1, True)
    assert after_first.next_attempt_at is not None
    waits = after_first.next_attempt_at - attempts[0].at
    assert abs(waits - wait_after(1)) < timedelta(seconds=1)  # the schedule's first wait
    assert outcome == AttemptOutcome.DELIVERED
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 503), (2, 200)]
    assert [r.headers["webhook-id"] for r in receiver.requests] == [
        receiver.requests[0].headers["webhook-id"]
    ] * 2  # the same event, once more


async def test_a_delivery_under_another_relays_lease_waits_for_the_lease_to_end(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    """No worker polls the queue here: the workflow the next relay starts waits, untried."""
    async with receiving() as receiver:
        endpoint_id, _ = await new_endpoint(own, hook_settings, receiver.url())
        [delivery_id] = await new_deliveries(own, endpoint_id)
        await lease(own, delivery_id, timedelta(minutes=1))  # a relay claimed it, then died
        relay = Dispatcher(time_env.client, own, hook_settings)
        while_held = await relay.deliver()
        workflow_while_held = await has_workflow(time_env.client, delivery_workflow_id(delivery_id))
        await lease(own, delivery_id, -timedelta(seconds=1))  # its lease ran out
        after = await relay.deliver()
        handle = time_env.client.get_workflow_handle(delivery_workflow_id(delivery_id))
        running = (await handle.describe()).status
        await handle.terminate("the test is over")

    assert (while_held, after) == (0, 1)
    assert not workflow_while_held
    assert receiver.requests == []  # the next relay hands it to its workflow, no first try
    assert running == WorkflowExecutionStatus.RUNNING
    assert [(r.started, r.claimed_until) for r in await rows(own, [delivery_id])] == [(True, None)]


async def test_two_relays_at_once_post_each_delivery_once(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    async with receiving(Reply(status=200)) as receiver:
        endpoint_id, _ = await new_endpoint(own, hook_settings, receiver.url())
        ids = await new_deliveries(own, endpoint_id, count=40)
        first, second = (Dispatcher(time_env.client, own, hook_settings) for _ in range(2))
        taken = await asyncio.gather(first.deliver(), second.deliver(), first.deliver())

    sent = [r.headers["webhook-id"] for r in receiver.requests]
    assert sum(taken) == 40
    assert len(sent) == len(set(sent)) == 40
    async with own() as session:
        made = await session.scalar(
            select(func.count()).where(WebhookAttemptRecord.delivery_id.in_(ids))
        )
    assert made == 40


async def test_an_endpoint_that_just_refused_a_first_try_gets_its_next_deliveries_by_workflow(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    """No worker polls the queue here: what the relay handed on waits, untried."""
    async with receiving(Reply(status=500)) as receiver:
        endpoint_id, _ = await new_endpoint(own, hook_settings, receiver.url())
        relay = Dispatcher(time_env.client, own, hook_settings)
        [refused] = await new_deliveries(own, endpoint_id)
        await relay.deliver()
        next_ones = await new_deliveries(own, endpoint_id, count=2)
        await relay.deliver()

    assert len(receiver.requests) == 1  # only the first try
    assert [(r.attempts, r.started) for r in await rows(own, next_ones)] == [(0, True)] * 2
    for delivery_id in [refused, *next_ones]:
        handle = time_env.client.get_workflow_handle(delivery_workflow_id(delivery_id))
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("the test is over")


async def test_a_dead_relays_claims_go_on_in_workflows_once_its_lease_ends(
    time_env: WorkflowEnvironment, own: SessionFactory, hook_settings: Settings
) -> None:
    """The dead relay may have started some of their workflows before it died: the next relay
    starts (or finds) the workflow of each, and never tries them first itself."""
    async with (
        receiving(Reply(status=200)) as receiver,
        delivery_worker(time_env, own, hook_settings) as queue,
    ):
        short = hook_settings.model_copy(
            update={"relay_lease": timedelta(seconds=1), "task_queue": queue}
        )
        endpoint_id, _ = await new_endpoint(own, short, receiver.url())
        ids = await new_deliveries(own, endpoint_id, count=70)
        async with own.begin() as session:  # a relay claims a round, then dies
            held = await leases.claim(session, WebhookDeliveryRecord, 64, timedelta(seconds=1))
        relay = Dispatcher(time_env.client, own, short)
        rounds = [await relay.deliver()]  # the 6 nobody held
        posted_first = len(receiver.requests)
        await asyncio.sleep(1.2)
        rounds += [await relay.deliver(), await relay.deliver()]
        taken_over = [row.id for row in held.rows]
        outcomes = [
            await time_env.client.get_workflow_handle(delivery_workflow_id(d)).result()
            for d in taken_over
        ]

    sent = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert rounds == [6, 64, 0]
    assert posted_first == 6
    assert outcomes == [AttemptOutcome.DELIVERED] * 64
    assert len(sent) == 70
    assert set(sent.values()) == {1}
    assert [r.attempts for r in await rows(own, ids)] == [1] * 70
