"""The reconciler starts the workflow of an order the API stored but could not start."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from db.session import SessionFactory
from reconciler import reconcile_once
from settings import Settings
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.servers import place_while_temporal_is_down
from workflows.contracts import order_workflow_id

pytestmark = pytest.mark.integration


async def test_an_order_left_without_a_workflow_gets_one_and_only_one(
    settings: Settings,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
    admin_key: str,
) -> None:
    # The storefront got a 503 and never retries.
    refused = await place_while_temporal_is_down(settings, admin_key, order_body(await new_sku(5)))
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
