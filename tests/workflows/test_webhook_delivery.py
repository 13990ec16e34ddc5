"""Webhook deliveries on the time-skipping server, with their real activities, PostgreSQL and a
real receiver on 127.0.0.1: retried on the schedule until a 2xx (hours pass in milliseconds),
and given up after three days, the endpoint then disabled."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from standardwebhooks import Webhook
from temporalio.testing import WorkflowEnvironment

from db import webhooks
from db.models import EventRecord, WebhookAttemptRecord
from db.session import SessionFactory
from integration.delivery import UNREADABLE
from settings import Settings
from tests.harness.receiver import Reply, Seen, receiving
from tests.harness.webhooks import delivery_worker, new_deliveries, new_endpoint
from workflows.integration_contracts import AttemptOutcome, DeliveryInput, delivery_workflow_id
from workflows.webhook_delivery import WINDOW, WebhookDeliveryWorkflow, wait_after

pytestmark = pytest.mark.integration


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private": True})  # a local receiver


async def deliver(env: WorkflowEnvironment, queue: str, delivery_id: str) -> AttemptOutcome:
    outcome: AttemptOutcome = await env.client.execute_workflow(
        WebhookDeliveryWorkflow.run,
        DeliveryInput(delivery_id=delivery_id),
        id=delivery_workflow_id(delivery_id),
        task_queue=queue,
    )
    return outcome


def attempts_within_the_window() -> int:
    """Attempts at 0, then after each wait of the schedule, while still within the window."""
    attempts, elapsed = 1, timedelta(0)
    while elapsed + wait_after(attempts) <= WINDOW:
        elapsed += wait_after(attempts)
        attempts += 1
    return attempts


async def test_a_receiver_failing_three_times_gets_the_event_once_more_signed_each_time(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    statuses: Iterator[int] = iter([500, 503, 502, 200])

    async def answer(seen: Seen) -> Reply:
        return Reply(status=next(statuses))

    async with receiving() as receiver:
        receiver.answer = answer
        endpoint_id, secret = await new_endpoint(sessions, hook_settings, receiver.url())
        [delivery_id] = await new_deliveries(sessions, endpoint_id)
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcome = await deliver(time_env, queue, delivery_id)

    assert outcome is AttemptOutcome.DELIVERED
    assert len(receiver.requests) == 4  # three failures, one success, nothing after
    verified = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
    assert all(event == verified[0] for event in verified)  # the same event each time
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    async with sessions() as session:
        delivery = await webhooks.delivery(session, delivery_id)
        attempts = await webhooks.attempts(session, delivery_id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 4, 200)
    assert [a.status_code for a in attempts] == [500, 503, 502, 200]
    assert delivery.next_attempt_at is None


async def test_a_receiver_down_for_an_hour_gets_every_event_once_it_is_back(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    back_at = await time_env.get_current_time() + timedelta(hours=1)

    async def answer(seen: Seen) -> Reply:
        down = await time_env.get_current_time() < back_at
        return Reply(status=503 if down else 204)

    async with receiving() as receiver:
        receiver.answer = answer
        endpoint_id, _ = await new_endpoint(sessions, hook_settings, receiver.url())
        deliveries = await new_deliveries(sessions, endpoint_id, count=5)
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcomes = [await deliver(time_env, queue, d) for d in deliveries]
        accepted = [r for r in receiver.requests if r.headers["webhook-id"]]

    assert outcomes == [AttemptOutcome.DELIVERED] * 5
    async with sessions() as session:
        final = await session.scalars(
            select(WebhookAttemptRecord).where(
                WebhookAttemptRecord.delivery_id.in_(deliveries),
                WebhookAttemptRecord.status_code == 204,
            )
        )
        assert sorted(a.delivery_id for a in final) == sorted(deliveries)  # each once
    ids = [r.headers["webhook-id"] for r in accepted]
    assert len(set(ids)) == 5  # every event got through, none missing
    assert len(receiver.requests) > 5  # and the hour of refusals was retried, not dropped


async def test_an_endpoint_failing_for_three_days_is_disabled_and_says_so(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    async with receiving(Reply(status=500)) as receiver:
        endpoint_id, _ = await new_endpoint(sessions, hook_settings, receiver.url())
        [delivery_id] = await new_deliveries(sessions, endpoint_id)
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcome = await deliver(time_env, queue, delivery_id)

    assert outcome is AttemptOutcome.FAILED
    async with sessions() as session:
        delivery = await webhooks.delivery(session, delivery_id)
        endpoint = await webhooks.endpoint(session, endpoint_id)
        said = await session.scalars(
            select(EventRecord).where(
                EventRecord.type == "webhook_endpoint.disabled",
                EventRecord.aggregate_id == endpoint_id,
            )
        )
        disabled_events = said.all()
    assert delivery is not None
    assert endpoint is not None
    assert delivery.status == "failed"
    assert endpoint.disabled
    assert endpoint.disabled_reason == "every delivery failed for 3 days"
    assert len(disabled_events) == 1
    assert delivery.attempts == attempts_within_the_window() == 14
    assert len(receiver.requests) == delivery.attempts  # every attempt recorded, each a POST


async def test_a_delivery_to_a_deleted_endpoint_ends_without_a_request(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    async with receiving() as receiver:
        endpoint_id, _ = await new_endpoint(sessions, hook_settings, receiver.url())
        [delivery_id] = await new_deliveries(sessions, endpoint_id)
        async with sessions.begin() as session:
            endpoint = await webhooks.endpoint(session, endpoint_id, lock=True)
            assert endpoint is not None
            endpoint.deleted_at = endpoint.updated_at
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcome = await deliver(time_env, queue, delivery_id)

    assert outcome is AttemptOutcome.GONE
    assert receiver.requests == []
    async with sessions() as session:
        delivery = await webhooks.delivery(session, delivery_id)
    assert delivery is not None
    assert delivery.status == "cancelled"


async def test_a_secret_sealed_under_another_server_secret_is_never_sent_unsigned(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    """The server secret changed since the endpoint was made: no attempt goes out (it could not
    be signed); each says why, until the endpoint's secret is rotated."""
    earlier = SecretStr("an earlier server secret, rotated since")
    before = hook_settings.model_copy(update={"secret_key": earlier})
    async with receiving() as receiver:
        endpoint_id, _ = await new_endpoint(sessions, before, receiver.url())
        [delivery_id] = await new_deliveries(sessions, endpoint_id)
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcome = await deliver(time_env, queue, delivery_id)

    async with sessions() as session:
        delivery = await webhooks.delivery(session, delivery_id)
    assert outcome is AttemptOutcome.FAILED
    assert receiver.requests == []
    assert delivery is not None
    assert delivery.last_error == UNREADABLE


async def test_a_delivery_handed_on_after_the_relays_first_try_keeps_its_schedule_and_window(
    time_env: WorkflowEnvironment, sessions: SessionFactory, hook_settings: Settings
) -> None:
    """The relay's first POST failed: the workflow's first is attempt 2, at the time the relay
    recorded, and the three days count from the relay's try (14 attempts in all, as ever)."""
    tried_at = await time_env.get_current_time()
    due = tried_at + wait_after(1)
    seen_at = []

    async def answer(seen: Seen) -> Reply:
        seen_at.append(await time_env.get_current_time())
        return Reply(status=500)

    async with receiving() as receiver:
        receiver.answer = answer
        endpoint_id, _ = await new_endpoint(sessions, hook_settings, receiver.url())
        [delivery_id] = await new_deliveries(sessions, endpoint_id)
        handed_on = DeliveryInput(
            delivery_id=delivery_id, attempts_made=1, first_attempt_at=tried_at, next_attempt_at=due
        )
        async with delivery_worker(time_env, sessions, hook_settings) as queue:
            outcome = await time_env.client.execute_workflow(
                WebhookDeliveryWorkflow.run,
                handed_on,
                id=delivery_workflow_id(delivery_id),
                task_queue=queue,
            )

    assert outcome == AttemptOutcome.FAILED
    assert len(receiver.requests) == attempts_within_the_window() - 1 == 13
    assert seen_at[0] >= due
    assert seen_at[-1] - tried_at <= WINDOW
