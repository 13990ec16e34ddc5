"""The reconciler starts the workflow of an order the API stored but could not start."""

from datetime import timedelta
from uuid import uuid4

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from db.session import SessionFactory
from devstack.network import free_port
from reconciler import reconcile_once
from settings import Settings
from tests.conftest import MakeOrderBody, MakeSku, serve_api
from workflows.contracts import order_workflow_id

pytestmark = pytest.mark.integration


async def test_an_order_left_without_a_workflow_gets_one_and_only_one(
    settings: Settings,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
) -> None:
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with serve_api(down) as api_without_temporal:  # the storefront never retries
        refused = await api_without_temporal.post(
            "/v1/orders",
            json=order_body(await new_sku(5)),
            headers={"Idempotency-Key": str(uuid4())},
        )
    order_id = refused.json()["order_id"]
    now = settings.model_copy(update={"reconcile_grace": timedelta(0)})

    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order_id))
    started = await reconcile_once(temporal_env.client, sessions, now)
    first = await handle.describe()
    await reconcile_once(temporal_env.client, sessions, now)  # a second round changes nothing
    second = await handle.describe()

    assert refused.status_code == 503
    assert started >= 1
    assert first.status is WorkflowExecutionStatus.RUNNING
    assert second.run_id == first.run_id


async def test_a_fresh_pending_order_is_left_to_the_api(
    settings: Settings, sessions: SessionFactory, temporal_env: WorkflowEnvironment
) -> None:
    patient = settings.model_copy(update={"reconcile_grace": timedelta(days=3650)})

    assert await reconcile_once(temporal_env.client, sessions, patient) == 0
