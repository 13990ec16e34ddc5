"""The return workflow's Updates on the dev server (the time-skipping one handles Updates
poorly): support approves or declines, the warehouse receives in parts, a receipt beyond what
is expected is refused, a cancel voids the label; an advance exchange released on receipt."""

from temporalio.testing import WorkflowEnvironment

from tests.factories import make_order_input
from tests.harness.fakes import FakeWorld
from tests.harness.order_runs import refusal
from tests.harness.return_runs import (
    make_return_input,
    return_worker,
    start_return,
    wait_for_return,
)
from workflows.contracts import OrderLine, OrderStatus, order_workflow_id
from workflows.order import OrderWorkflow
from workflows.return_contracts import (
    Condition,
    ReceivedLine,
    ReceiveRequest,
    Resolution,
    ResolveReturnResult,
    ReturnDecision,
    ReturnLine,
    ReturnStatus,
)
from workflows.returns import ReturnWorkflow

S = ReturnStatus
SUPPORT = ReturnDecision(request_id="req-1", requested_by="user:agent-7", reason="looks fine")
TWO_SKUS = [
    ReturnLine(sku="SKU-RED-M", quantity=2, unit_price=1999),
    ReturnLine(sku="SKU-BLUE-M", quantity=1, unit_price=2499),
]


def receipt(request_id: str, *lines: tuple[str, int, Condition]) -> ReceiveRequest:
    return ReceiveRequest(
        request_id=request_id,
        requested_by="user:warehouse-1",
        lines=[ReceivedLine(sku=s, quantity=q, condition=c) for s, q, c in lines],
    )


async def test_support_approves_then_partial_receipts_add_up_to_the_refund(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    input = make_return_input(auto_approve=False, lines=TWO_SKUS)
    async with return_worker(temporal_env, world) as queue:
        handle = await start_return(temporal_env, queue, input)
        approved = await handle.execute_update(ReturnWorkflow.approve, SUPPORT)
        await wait_for_return(world, S.AWAITING_RECEIPT)
        first = await handle.execute_update(
            ReturnWorkflow.receive, receipt("rcv-1", ("SKU-RED-M", 1, Condition.RESELLABLE))
        )
        last = await handle.execute_update(
            ReturnWorkflow.receive,
            receipt(
                "rcv-2",
                ("SKU-RED-M", 1, Condition.DAMAGED),
                ("SKU-BLUE-M", 1, Condition.RESELLABLE),
            ),
        )
        result = await handle.result()

    assert approved.status is S.APPROVED
    assert first.status is S.AWAITING_RECEIPT
    assert last.status in (S.RECEIVED, S.COMPLETED)
    assert result.status is S.COMPLETED
    assert world.return_statuses == ["approved", "awaiting_receipt", "received", "completed"]
    assert world.return_records[0].entry.actor == "user:agent-7"
    assert world.calls == [
        "create_return_label",
        "receive_return_units",
        "receive_return_units",
        "resolve_return",
    ]
    assert [r["request_id"] for r in world.args["receive_return_units"]] == ["rcv-1", "rcv-2"]


async def test_support_declines_with_a_reason_and_nothing_else_happens(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with return_worker(temporal_env, world) as queue:
        handle = await start_return(temporal_env, queue, make_return_input(auto_approve=False))
        no_reason = await refusal(
            handle.execute_update(ReturnWorkflow.decline, ReturnDecision(
                request_id="req-0", requested_by="user:agent-7"
            ))
        )  # fmt: skip
        declined = await handle.execute_update(ReturnWorkflow.decline, SUPPORT)
        result = await handle.result()

    assert "reason" in no_reason.message
    assert declined.status is S.DECLINED
    assert result.status is S.DECLINED
    assert world.return_statuses == ["declined"]
    assert world.return_records[0].entry.reason == "looks fine"
    assert world.calls == []


async def test_more_than_expected_is_refused_and_changes_nothing(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with return_worker(temporal_env, world) as queue:
        handle = await start_return(temporal_env, queue, make_return_input())
        await wait_for_return(world, S.AWAITING_RECEIPT)
        too_many = await refusal(
            handle.execute_update(
                ReturnWorkflow.receive, receipt("rcv-1", ("SKU-RED-M", 3, Condition.RESELLABLE))
            )
        )
        unknown = await refusal(
            handle.execute_update(
                ReturnWorkflow.receive, receipt("rcv-2", ("SKU-GREEN", 1, Condition.RESELLABLE))
            )
        )
        await handle.terminate("test over")

    assert "more than expected" in too_many.message
    assert "not in this return" in unknown.message
    assert "receive_return_units" not in world.calls


async def test_a_cancel_before_receipt_voids_the_label(temporal_env: WorkflowEnvironment) -> None:
    world = FakeWorld()
    async with return_worker(temporal_env, world) as queue:
        handle = await start_return(temporal_env, queue, make_return_input())
        await wait_for_return(world, S.AWAITING_RECEIPT)
        cancelled = await handle.execute_update(ReturnWorkflow.cancel, SUPPORT)
        result = await handle.result()

    assert cancelled.status is S.CANCELLED
    assert result.status is S.CANCELLED
    assert world.calls == ["create_return_label", "void_return_label"]
    assert world.return_records[-1].entry.actor == "user:agent-7"


async def test_an_advance_exchange_received_captures_only_what_the_goods_do_not_cover(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    replacement = make_order_input(
        awaits_return=True, lines=[OrderLine(sku="SKU-BLUE-M", quantity=1, unit_price=4999)]
    )
    world.resolved = ResolveReturnResult(exchange_order_id=replacement.order_id)
    world.covered = 3998  # the two units that came back
    input = make_return_input(resolution=Resolution.EXCHANGE, advance=True)
    async with return_worker(temporal_env, world) as queue:
        order = await temporal_env.client.start_workflow(
            OrderWorkflow.run,
            replacement,
            id=order_workflow_id(replacement.order_id),
            task_queue=queue,
        )
        handle = await start_return(temporal_env, queue, input)
        await wait_for_return(world, S.AWAITING_RECEIPT)
        refused = await refusal(handle.execute_update(ReturnWorkflow.cancel, SUPPORT))
        await handle.execute_update(
            ReturnWorkflow.receive, receipt("rcv-1", ("SKU-RED-M", 2, Condition.RESELLABLE))
        )
        result = await handle.result()
        shipped = await order.result()

    assert "replacement" in refused.message
    assert result.status is S.COMPLETED
    assert shipped.status is OrderStatus.COMPLETED
    [captured] = world.args["capture_payment"]
    assert captured["amount"] == 4999 - 3998
    assert "void_return_label" not in world.calls


async def test_once_part_of_the_parcel_arrived_a_cancel_is_refused(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with return_worker(temporal_env, world) as queue:
        handle = await start_return(temporal_env, queue, make_return_input())
        await wait_for_return(world, S.AWAITING_RECEIPT)
        await handle.execute_update(
            ReturnWorkflow.receive, receipt("rcv-1", ("SKU-RED-M", 1, Condition.RESELLABLE))
        )
        late = await refusal(handle.execute_update(ReturnWorkflow.cancel, SUPPORT))
        await handle.terminate("test over")

    assert "arrived" in late.message
    assert "void_return_label" not in world.calls
