"""The return workflow's timers on the time-skipping server: approved at once, then expired with
its label voided when no parcel arrives; an advance exchange's replacement captured in full at
that expiry."""

from temporalio.testing import WorkflowEnvironment

from tests.factories import make_order_input
from tests.harness.fakes import FakeWorld
from tests.harness.return_runs import make_return_input, return_worker, start_return
from workflows.contracts import OrderLine, OrderStatus, order_workflow_id
from workflows.order import OrderWorkflow
from workflows.return_contracts import Resolution, ResolveReturnResult, ReturnStatus

S = ReturnStatus


async def test_approved_automatically_then_expired_with_the_label_voided(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with return_worker(time_env, world) as queue:
        handle = await start_return(time_env, queue, make_return_input())
        result = await handle.result()

    assert result.status is S.EXPIRED
    assert world.return_statuses == ["approved", "awaiting_receipt", "expired"]
    assert world.calls == ["create_return_label", "void_return_label"]
    [awaiting] = [r for r in world.return_records if r.entry.status is S.AWAITING_RECEIPT]
    assert awaiting.label is not None
    assert awaiting.label.tracking_number == "SR1"
    assert awaiting.receive_by is not None
    assert (awaiting.receive_by - awaiting.entry.at).days == 14
    assert "resolve_return" not in world.calls  # nothing arrived: no money moves


async def test_waiting_for_support_a_manual_return_stays_requested(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    input = make_return_input(auto_approve=False)
    async with return_worker(time_env, world) as queue:
        handle = await start_return(time_env, queue, input)
        await time_env.sleep(30 * 24 * 3600)  # a month: no decision, no timer runs out
        described = await handle.describe()

    assert world.return_statuses == []
    assert "create_return_label" not in world.calls
    assert described.status is not None
    assert described.status.name == "RUNNING"
    await handle.terminate("test over")


async def test_an_advance_exchange_that_never_comes_back_is_captured_in_full(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    replacement = make_order_input(
        awaits_return=True, lines=[OrderLine(sku="SKU-BLUE-M", quantity=1, unit_price=2499)]
    )
    world.resolved = ResolveReturnResult(exchange_order_id=replacement.order_id)
    input = make_return_input(resolution=Resolution.EXCHANGE, advance=True)
    async with return_worker(time_env, world) as queue:
        order = await time_env.client.start_workflow(
            OrderWorkflow.run,
            replacement,
            id=order_workflow_id(replacement.order_id),
            task_queue=queue,
        )
        handle = await start_return(time_env, queue, input)
        result = await handle.result()
        shipped = await order.result()

    assert result.status is S.EXPIRED
    assert world.calls.index("resolve_return") < world.calls.index("void_return_label")
    assert world.args["resolve_return"][0]["advance"] is True
    assert shipped.status is OrderStatus.COMPLETED
    [captured] = world.args["capture_payment"]
    assert captured["amount"] == 2499  # nothing came back: the card pays it all
    assert world.calls.index("settle_return") < world.calls.index("capture_payment")
    assert "issue_invoice" in world.calls
