"""Webhook endpoints, events and deliveries as the tests set them up: straight through the db
functions the API and the relay use, and a worker running only the delivery workflow."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.webhooks import WebhookActivities
from db import events, webhooks
from db.models import EventRecord, WebhookEndpointRecord
from db.session import SessionFactory
from db.webhooks import SECRET_PURPOSE
from integration.catalog import EventType
from integration.webhooks import new_secret
from security.sealed import seal
from settings import Settings
from workflows.webhook_delivery import WebhookDeliveryWorkflow


async def new_endpoint(
    sessions: SessionFactory, settings: Settings, url: str, types: list[str] | None = None
) -> tuple[str, str]:
    """An endpoint subscribed to `types` (all by default): its id and its secret."""
    secret, now = new_secret(), datetime.now(UTC)
    endpoint = WebhookEndpointRecord(
        id=webhooks.new_id("we"),
        url=url,
        events=types or ["*"],
        secret=seal(secret, settings.server_secret(), SECRET_PURPOSE),
        created_by="test",
        created_at=now,
        updated_at=now,
    )
    async with sessions.begin() as session:
        session.add(endpoint)
    return endpoint.id, secret


async def new_deliveries(sessions: SessionFactory, endpoint_id: str, count: int = 1) -> list[str]:
    """`count` events of an order of their own, fanned out to the endpoint: the deliveries."""
    order_id = f"o-{uuid4()}"
    async with sessions.begin() as session:
        for n in range(count):
            await events.emit(session, EventType.ORDER_CHANGED, order_id, {"n": n})
        batch = await session.scalars(
            select(EventRecord).where(EventRecord.aggregate_id == order_id).order_by(EventRecord.id)
        )
        target = await webhooks.endpoint(session, endpoint_id)
        assert target is not None
        return await webhooks.fan_out(session, list(batch), [target])


@asynccontextmanager
async def delivery_worker(
    env: WorkflowEnvironment, sessions: SessionFactory, settings: Settings
) -> AsyncIterator[str]:
    """A worker of the delivery workflow and its real activities; yields its task queue."""
    queue, activities = f"tq-{uuid4()}", WebhookActivities(sessions, settings)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[WebhookDeliveryWorkflow],
        activities=[activities.deliver_webhook, activities.give_up_webhook],
    ):
        yield queue


async def has_workflow(client: Client, workflow_id: str) -> bool:
    """Whether a workflow of that id was ever started (the relay's first try needs none)."""
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
