"""OrderWorkflow run on a worker of stand-ins (fakes.py): start it, wait for a status, read a
refused Update. Shared by the workflow tests and record_histories.py."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta
from uuid import uuid4

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.factories import make_order_input
from tests.harness.fakes import FakeWorld
from workflows.contracts import (
    CancelRequest,
    OrderInput,
    OrderResult,
    OrderStatus,
    order_workflow_id,
)
from workflows.order import OrderWorkflow

Handle = WorkflowHandle[OrderWorkflow, OrderResult]
CANCEL = CancelRequest(reason="customer changed their mind", requested_by="agent-7")


@asynccontextmanager
async def running_order(
    env: WorkflowEnvironment, world: FakeWorld, order: OrderInput | None = None
) -> AsyncIterator[Handle]:
    """The order started on a worker of `world`'s stand-ins, on a task queue of its own."""
    order, queue = order or make_order_input(), f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        yield await env.client.start_workflow(
            OrderWorkflow.run,
            order,
            id=order_workflow_id(order.order_id),
            task_queue=queue,
            # An update waits while a local activity (record_status) runs; a gated one ends its
            # workflow task at 80 % of this timeout, so the update gets in within ~2 s.
            task_timeout=timedelta(seconds=2),
        )


async def wait_for_status(handle: Handle, status: OrderStatus) -> None:
    """Poll the `status` query (bounded) until the order is in `status`."""
    for _ in range(200):
        if (await handle.query(OrderWorkflow.status)).status is status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order never reached {status}")


async def wait_until_called(world: FakeWorld, activity: str) -> None:
    """Poll (bounded) until the workflow has called `activity`."""
    for _ in range(200):
        if activity in world.calls:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{activity} was never called")


async def refusal(update: Awaitable[object]) -> ApplicationError:
    """The reason an Update was refused with (fails the test if it was accepted)."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def run_order(
    env: WorkflowEnvironment, world: FakeWorld, order: OrderInput | None = None
) -> OrderResult:
    order = order or make_order_input()
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        return await env.client.execute_workflow(
            OrderWorkflow.run, order, id=order_workflow_id(order.order_id), task_queue=queue
        )
