"""Record histories for the replay test: `python -m tests.workflows.record_histories LABEL`.

Run it when a change to OrderWorkflow is released on purpose (with `workflow.patched` where running
orders need it), with a new LABEL, and commit the new files next to the old ones: the histories of
every released version must keep replaying.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.factories import make_address, make_order_input
from tests.harness.binaries import TEMPORAL_CLI
from tests.harness.fakes import FakeWorld
from tests.harness.keys import payload_converter
from tests.harness.order_runs import Handle, wait_for_status
from tests.harness.return_runs import (
    ReturnHandle,
    make_return_input,
    return_worker,
    start_return,
    wait_for_return,
)
from workflows.contracts import (
    SEARCH_ATTRIBUTES,
    CancelRequest,
    ChangeRequest,
    LineChange,
    OrderStatus,
    ReleaseRequest,
    order_workflow_id,
)
from workflows.integration_contracts import AttemptOutcome, DeliveryInput, MailInput
from workflows.mail import MailWorkflow
from workflows.money_contracts import MoneyError, RefundInput, RefundMethod, refund_workflow_id
from workflows.order import OrderWorkflow
from workflows.refund import RefundWorkflow
from workflows.return_contracts import (
    Condition,
    ReceivedLine,
    ReceiveRequest,
    Resolution,
    ResolveReturnResult,
    ReturnDecision,
    ReturnStatus,
)
from workflows.returns import ReturnWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow

HERE = Path(__file__).parent / "histories"

Act = Callable[[Handle], Awaitable[None]]


async def record(
    env: WorkflowEnvironment, name: str, world: FakeWorld, act: Act | None = None, **order: Any
) -> None:
    """Run one scenario on the dev server and write its history to histories/NAME.json. Orders
    watch a shipping SLA, as every order placed since v7 does."""
    order = {"ship_sla_s": 48 * 3600.0} | order
    input, queue = make_order_input(order_id=f"replay-{name}", **order), f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        handle = await env.client.start_workflow(
            OrderWorkflow.run, input, id=order_workflow_id(input.order_id), task_queue=queue
        )
        if act is not None:
            await act(handle)
        await handle.result()
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())


async def main(label: str) -> None:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=payload_converter(),  # encrypted with the tests' fixed key, as replayed
    ) as env:
        await record(env, f"completed-{label}", FakeWorld())
        await record(env, f"declined-{label}", _declining())
        backordered = FakeWorld(short=[["SKU-RED-M"]] * 9)
        await record(env, f"backordered_then_cancelled-{label}", backordered, _cancel)
        await record(env, f"changed_on_hold-{label}", FakeWorld(), _change, payment_review_above=1)
        await record(env, f"paid_with_credit-{label}", FakeWorld(), store_credit=1000)
        for method in RefundMethod:
            await record_refund(env, f"refund_{method.value}-{label}", FakeWorld(), method)
        await record_refund(
            env, f"refund_declined-{label}", _refusing(), RefundMethod.ORIGINAL_PAYMENT
        )
        await record_returns(env, label)
        await record_integration(env, label)


async def record_integration(env: WorkflowEnvironment, label: str) -> None:
    """An order found late (its SLA of a second passes while it waits for stock), a webhook
    delivered on its second attempt, a customer e-mail sent; and what the relay hands on."""
    late = FakeWorld(short=[["SKU-RED-M"]] * 3)
    await record(env, f"late-{label}", late, ship_sla_s=1.0, backorder_recheck_s=1.5)
    world = FakeWorld(posts=[AttemptOutcome.FAILED])
    await record_other(env, f"webhook_delivered-{label}", world, WebhookDeliveryWorkflow,
                       DeliveryInput(delivery_id=f"replay-{label}"))  # fmt: skip
    await record_other(env, f"mail_sent-{label}", FakeWorld(), MailWorkflow,
                       MailInput(notification_id=f"replay-{label}"))  # fmt: skip
    await record_handed_on(env, label)


async def record_handed_on(env: WorkflowEnvironment, label: str) -> None:
    """Since v8 the relay tries first: a delivery and a mail it handed on after a failed try."""
    now = await env.get_current_time()
    handed_on = DeliveryInput(
        delivery_id=f"replay-handed-{label}",
        attempts_made=1,
        first_attempt_at=now,
        next_attempt_at=now + timedelta(seconds=1),
    )
    world = FakeWorld(posts=[AttemptOutcome.FAILED])
    await record_other(env, f"webhook_handed_on-{label}", world, WebhookDeliveryWorkflow, handed_on)
    later = await env.get_current_time() + timedelta(seconds=1)
    mail = MailInput(notification_id=f"replay-handed-{label}", retry_at=later)
    await record_other(env, f"mail_handed_on-{label}", FakeWorld(), MailWorkflow, mail)


async def record_other(
    env: WorkflowEnvironment, name: str, world: FakeWorld, workflow: type, input: object
) -> None:
    """One run of a workflow other than the order's, its history written like `record`'s."""
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[workflow], activities=world.activities()
    ):
        handle = await env.client.start_workflow(
            workflow.__name__, input, id=f"replay-{name}", task_queue=queue
        )
        await handle.result()
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())


ReturnAct = Callable[[ReturnHandle, FakeWorld], Awaitable[None]]
SUPPORT = ReturnDecision(request_id="req-1", requested_by="user:agent", reason="ok")


async def record_returns(env: WorkflowEnvironment, label: str) -> None:
    """A return received and refunded, declined, cancelled, expired; and an advance exchange
    (its return and its replacement order, which the return signals)."""
    await record_return(env, f"return_received-{label}", _receive_all)
    await record_return(env, f"return_declined-{label}", _decline, auto_approve=False)
    await record_return(env, f"return_cancelled-{label}", _cancel_return)
    await record_return(env, f"return_expired-{label}", None, receive_window_s=1.0)
    world = FakeWorld(covered=1000)
    replacement = make_order_input(order_id=f"replay-advance_exchange-{label}", awaits_return=True)
    world.resolved = ResolveReturnResult(exchange_order_id=replacement.order_id)
    async with return_worker(env, world) as queue:
        order = await env.client.start_workflow(
            OrderWorkflow.run, replacement, id=order_workflow_id(replacement.order_id),
            task_queue=queue,
        )  # fmt: skip
        input = make_return_input(
            return_id=f"replay-return_advance-{label}", resolution=Resolution.EXCHANGE,
            advance=True,
        )  # fmt: skip
        handle = await start_return(env, queue, input)
        await _receive_all(handle, world)
        await handle.result()
        await order.result()
        (HERE / f"return_advance-{label}.json").write_text((await handle.fetch_history()).to_json())
        history = await order.fetch_history()
    (HERE / f"advance_exchange-{label}.json").write_text(history.to_json())


async def record_return(
    env: WorkflowEnvironment, name: str, act: ReturnAct | None, **input: Any
) -> None:
    world = FakeWorld()
    async with return_worker(env, world) as queue:
        handle = await start_return(
            env, queue, make_return_input(return_id=f"replay-{name}", **input)
        )
        if act is not None:
            await act(handle, world)
        await handle.result()
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())


async def _receive_all(handle: ReturnHandle, world: FakeWorld) -> None:
    await wait_for_return(world, ReturnStatus.AWAITING_RECEIPT)
    lines = [ReceivedLine(sku="SKU-RED-M", quantity=2, condition=Condition.RESELLABLE)]
    receipt = ReceiveRequest(request_id="rcv-1", requested_by="user:warehouse", lines=lines)
    await handle.execute_update(ReturnWorkflow.receive, receipt)


async def _decline(handle: ReturnHandle, world: FakeWorld) -> None:
    del world
    await handle.execute_update(ReturnWorkflow.decline, SUPPORT)


async def _cancel_return(handle: ReturnHandle, world: FakeWorld) -> None:
    await wait_for_return(world, ReturnStatus.AWAITING_RECEIPT)
    await handle.execute_update(ReturnWorkflow.cancel, SUPPORT)


async def record_refund(
    env: WorkflowEnvironment, name: str, world: FakeWorld, method: RefundMethod
) -> None:
    """A refund's workflow, as `record` does for an order's."""
    refund = RefundInput(
        refund_id=f"replay-{name}", order_id="o-1", amount=500, currency="EUR", method=method
    )
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[RefundWorkflow], activities=world.activities()
    ):
        handle = await env.client.start_workflow(
            RefundWorkflow.run, refund, id=refund_workflow_id(refund.refund_id), task_queue=queue
        )
        await handle.result()
        history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())


def _refusing() -> FakeWorld:
    world = FakeWorld()
    world.fail["refund_payment"] = ApplicationError(
        "account closed", type=MoneyError.REFUND_DECLINED, non_retryable=True
    )
    return world


async def _cancel(handle: Handle) -> None:
    await wait_for_status(handle, OrderStatus.BACKORDERED)
    await handle.execute_update(OrderWorkflow.cancel, CancelRequest(reason="r", requested_by="a"))


async def _change(handle: Handle) -> None:
    """Held for payment review: change the lines and the address, then release."""
    await wait_for_status(handle, OrderStatus.ON_HOLD)
    lines = [
        LineChange(sku="SKU-RED-M", quantity=3),
        LineChange(sku="SKU-NEW", quantity=1, unit_price=5),
    ]
    change = ChangeRequest(
        requested_by="a", lines=lines, shipping_address=make_address(city="Bonn")
    )
    await handle.execute_update(OrderWorkflow.change, change)
    await handle.execute_update(OrderWorkflow.release, ReleaseRequest(requested_by="a"))


def _declining() -> FakeWorld:
    world = FakeWorld()
    world.decline_payment()
    return world


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
