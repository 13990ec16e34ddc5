"""The order workflow's money steps against stand-in activities (time-skipping server): store
credit held first and given back when the order stops, the card charged only for the rest, the
invoice issued after the capture; and the refund workflow's two endings."""

from uuid import uuid4

from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.factories import make_order_input
from tests.harness.fakes import FakeWorld
from tests.harness.order_runs import run_order
from workflows.contracts import OrderStatus
from workflows.money_contracts import (
    MoneyError,
    RefundInput,
    RefundMethod,
    RefundResult,
    RefundStatus,
    refund_workflow_id,
)
from workflows.refund import RefundWorkflow

CREDIT_ONLY = make_order_input(store_credit=3998, payment_token="")  # 2 x 19.99 EUR


async def test_store_credit_alone_pays_without_the_card(time_env: WorkflowEnvironment) -> None:
    world = FakeWorld()

    result = await run_order(time_env, world, CREDIT_ONLY)

    assert result.status is OrderStatus.COMPLETED
    assert world.calls[:2] == ["hold_store_credit", "reserve_stock"]
    assert "authorize_payment" not in world.calls
    assert "capture_payment" not in world.calls
    assert "issue_invoice" in world.calls


async def test_the_card_is_charged_the_total_less_the_store_credit(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()

    await run_order(time_env, world, make_order_input(store_credit=1000))

    [authorized] = world.args["authorize_payment"]
    [captured] = world.args["capture_payment"]
    assert authorized["amount"] == captured["amount"] == 3998 - 1000
    [held] = world.args["hold_store_credit"]
    assert held["amount"] == 1000


async def test_credit_spent_meanwhile_fails_the_order_before_it_reserves(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    world.fail["hold_store_credit"] = ApplicationError(
        "balance 0", type=MoneyError.STORE_CREDIT_INSUFFICIENT, non_retryable=True
    )

    result = await run_order(time_env, world, CREDIT_ONLY)

    assert (result.status, result.reason) == (OrderStatus.FAILED, "store_credit_insufficient")
    assert world.calls == ["hold_store_credit", "release_store_credit"]


async def test_a_declined_card_gives_the_held_credit_back(time_env: WorkflowEnvironment) -> None:
    world = FakeWorld()
    world.decline_payment()

    result = await run_order(time_env, world, make_order_input(store_credit=1000))

    assert result.reason == "payment_declined"
    assert world.calls[-3:] == ["void_payment", "release_stock", "release_store_credit"]


async def run_refund(
    env: WorkflowEnvironment, world: FakeWorld, method: RefundMethod
) -> RefundResult:
    refund = RefundInput(
        refund_id=f"r-{uuid4()}", order_id="o-1", amount=500, currency="EUR", method=method
    )
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[RefundWorkflow], activities=world.activities()
    ):
        return await env.client.execute_workflow(
            RefundWorkflow.run, refund, id=refund_workflow_id(refund.refund_id), task_queue=queue
        )


async def test_a_card_refund_pays_out_then_issues_its_credit_note(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()

    result = await run_refund(time_env, world, RefundMethod.ORIGINAL_PAYMENT)

    assert (result.status, result.credit_note) == (RefundStatus.SUCCEEDED, "CN-2026-000001")
    assert world.calls == ["refund_payment", "complete_refund"]


async def test_a_refund_as_store_credit_never_calls_the_gateway(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()

    result = await run_refund(time_env, world, RefundMethod.STORE_CREDIT)

    assert result.status is RefundStatus.SUCCEEDED
    assert world.calls == ["complete_refund"]


async def test_a_refused_refund_fails_with_the_gateways_reason(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    world.fail["refund_payment"] = ApplicationError(
        "account closed", type=MoneyError.REFUND_DECLINED, non_retryable=True
    )

    result = await run_refund(time_env, world, RefundMethod.ORIGINAL_PAYMENT)

    assert (result.status, result.failure_reason) == (RefundStatus.FAILED, "account closed")
    assert world.calls == ["refund_payment", "fail_refund"]
