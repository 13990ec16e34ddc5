"""ReturnWorkflow run on a worker of stand-ins (fakes.py), beside the order workflow an advance
exchange signals. Shared by the workflow tests and record_histories.py."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import uuid4

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.harness.fakes import FakeWorld
from workflows.order import OrderWorkflow
from workflows.return_contracts import (
    Resolution,
    ReturnInput,
    ReturnLine,
    ReturnResult,
    ReturnStatus,
    return_workflow_id,
)
from workflows.returns import ReturnWorkflow

ReturnHandle = WorkflowHandle[ReturnWorkflow, ReturnResult]
DAY = 24 * 3600.0


def make_return_input(**overrides: Any) -> ReturnInput:
    fields: dict[str, Any] = {
        "return_id": f"r-{uuid4()}",
        "order_id": f"o-{uuid4()}",
        "customer_id": "cust-42",
        "currency": "EUR",
        "resolution": Resolution.REFUND,
        "lines": [ReturnLine(sku="SKU-RED-M", quantity=2, unit_price=1999)],
        "receive_window_s": 14 * DAY,
    }
    return ReturnInput(**(fields | overrides))


@asynccontextmanager
async def return_worker(env: WorkflowEnvironment, world: FakeWorld) -> AsyncIterator[str]:
    """A worker of `world`'s stand-ins for returns and orders, on a task queue of its own."""
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ReturnWorkflow, OrderWorkflow],
        activities=world.activities(),
    ):
        yield queue


async def start_return(env: WorkflowEnvironment, queue: str, input: ReturnInput) -> ReturnHandle:
    return await env.client.start_workflow(
        ReturnWorkflow.run,
        input,
        id=return_workflow_id(input.return_id),
        task_queue=queue,
        task_timeout=timedelta(seconds=2),
    )


async def wait_for_return(world: FakeWorld, status: ReturnStatus) -> None:
    """Poll (bounded) until the return's read model was told `status`."""
    for _ in range(300):
        if status.value in world.return_statuses:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the return never reached {status}: {world.return_statuses}")
