"""Record histories for the replay test: `python -m tests.workflows.record_histories LABEL`.

Run it when a change to OrderWorkflow is released on purpose (with `workflow.patched` where running
orders need it), with a new LABEL, and commit the new files next to the old ones: the histories of
every released version must keep replaying.
"""

import asyncio
import sys
from pathlib import Path
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.factories import make_order_input
from tests.workflows.fakes import FakeWorld
from tests.workflows.test_order_timers import wait_for_status
from workflows.contracts import SEARCH_ATTRIBUTES, CancelRequest, OrderStatus, order_workflow_id
from workflows.order import OrderWorkflow

HERE = Path(__file__).parent / "histories"


async def record(env: WorkflowEnvironment, name: str, world: FakeWorld, cancel: bool) -> None:
    """Run one scenario on the dev server and write its history to histories/NAME.json."""
    order, queue = make_order_input(order_id=f"replay-{name}"), f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        handle = await env.client.start_workflow(
            OrderWorkflow.run, order, id=order_workflow_id(order.order_id), task_queue=queue
        )
        if cancel:
            await wait_for_status(handle, OrderStatus.BACKORDERED)
            await handle.execute_update(
                OrderWorkflow.cancel, CancelRequest(reason="r", requested_by="a")
            )
        await handle.result()
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())


async def main(label: str) -> None:
    cli = str(Path(sys.executable).parent / "temporal")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=cli, search_attributes=SEARCH_ATTRIBUTES
    ) as env:
        await record(env, f"completed-{label}", FakeWorld(), cancel=False)
        await record(env, f"declined-{label}", _declining(), cancel=False)
        backordered = FakeWorld(short=[["SKU-RED-M"]] * 9)
        await record(env, f"backordered_then_cancelled-{label}", backordered, cancel=True)


def _declining() -> FakeWorld:
    world = FakeWorld()
    world.decline_payment()
    return world


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
