"""The order workflow against stand-in activities, on the time-skipping server (days pass in ms)."""

from uuid import uuid4

from temporalio.client import WorkflowExecutionDescription, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.factories import make_order_input
from tests.harness.fakes import FakeWorld
from tests.harness.order_runs import run_order, wait_for_status
from workflows.contracts import (
    LATE,
    CancelRequest,
    OrderInput,
    OrderResult,
    OrderStatus,
    StockChanged,
    order_workflow_id,
)
from workflows.order import OrderWorkflow

HAPPY_PATH = ["reserved", "picked", "packed", "shipped", "delivered", "completed"]


async def test_happy_path_walks_every_status_to_completed(time_env: WorkflowEnvironment) -> None:
    world = FakeWorld()

    result = await run_order(time_env, world)

    assert result.status is OrderStatus.COMPLETED
    assert world.statuses == HAPPY_PATH
    assert world.calls == [
        "reserve_stock",
        "authorize_payment",
        "pick_order",
        "pack_order",
        "create_shipment",
        "ship_stock",
        "capture_payment",
        "issue_invoice",
        "confirm_delivery",
    ]
    assert [record.seq for record in world.records] == [1, 2, 3, 4, 5, 6]
    assert world.records[3].shipment is not None  # the shipment reaches the read model


async def test_declined_payment_releases_stock_and_fails(time_env: WorkflowEnvironment) -> None:
    world = FakeWorld()
    world.decline_payment()

    result = await run_order(time_env, world)

    assert (result.status, result.reason) == (OrderStatus.FAILED, "payment_declined")
    assert world.calls == ["reserve_stock", "authorize_payment", "void_payment", "release_stock"]
    assert world.statuses == ["failed"]


async def test_failing_step_compensates_in_reverse_after_its_retries(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(fail={"pack_order": RuntimeError("warehouse down")})

    result = await run_order(time_env, world)

    assert (result.status, result.reason) == (OrderStatus.FAILED, "pack_failed")
    assert world.calls.count("pack_order") > 3  # retried until the retry budget ran out
    undo = world.calls[world.calls.index("cancel_pack") :]
    assert undo == ["cancel_pack", "cancel_pick", "void_payment", "release_stock"]


async def test_stock_that_arrives_while_the_order_turns_backordered_is_not_missed(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short=[["SKU-RED-M"]])  # short once; the API saw no backorder to wake

    result = await run_order(time_env, world)

    assert result.status is OrderStatus.COMPLETED
    assert world.statuses == ["backordered", *HAPPY_PATH]
    assert world.calls.count("reserve_stock") == 2  # at once, not an hour later


async def test_backorder_window_expiry_cancels_with_out_of_stock(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short=[["SKU-RED-M"]] * 1000)  # never any stock

    result = await run_order(time_env, world)

    assert (result.status, result.reason) == (OrderStatus.CANCELLED, "out_of_stock")
    assert world.statuses == ["backordered", "cancelled"]
    assert "authorize_payment" not in world.calls
    # The first try, one more on turning backordered, then one an hour for the 7-day window.
    assert world.calls.count("reserve_stock") == 2 + 7 * 24


async def start(
    env: WorkflowEnvironment, world: FakeWorld, queue: str, order: OrderInput
) -> WorkflowHandle[OrderWorkflow, OrderResult]:
    return await env.client.start_workflow(
        OrderWorkflow.run, order, id=order_workflow_id(order.order_id), task_queue=queue
    )


async def test_stock_changed_signal_wakes_a_backordered_order(
    time_env: WorkflowEnvironment,
) -> None:
    short = [["SKU-RED-M"]] * 2  # short when first tried, and again once seen backordered
    world, order, queue = FakeWorld(short=short), make_order_input(), f"tq-{uuid4()}"
    async with Worker(
        time_env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        handle = await start(time_env, world, queue, order)
        await wait_for_status(handle, OrderStatus.BACKORDERED)
        waiting = (await handle.query(OrderWorkflow.status)).waiting_for
        await handle.signal(OrderWorkflow.stock_changed, StockChanged(skus=["SKU-OTHER"]))
        await handle.signal(OrderWorkflow.stock_changed, StockChanged(skus=["SKU-RED-M"]))
        result = await handle.result()

    assert (waiting or "").startswith("stock of SKU-RED-M until ")
    assert result.status is OrderStatus.COMPLETED
    assert world.statuses == ["backordered", *HAPPY_PATH]
    assert world.calls.count("reserve_stock") == 3


async def test_cancel_signal_while_backordered_cancels(time_env: WorkflowEnvironment) -> None:
    world, order, queue = FakeWorld(short=[["SKU-RED-M"]] * 10), make_order_input(), f"tq-{uuid4()}"
    async with Worker(
        time_env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        handle = await start(time_env, world, queue, order)
        await wait_for_status(handle, OrderStatus.BACKORDERED)
        await handle.signal("cancel", CancelRequest(reason="changed mind", requested_by="ops"))
        result = await handle.result()

    assert (result.status, result.reason) == (OrderStatus.CANCELLED, "cancelled_by_support")
    final = world.records[-1]
    assert (final.entry.actor, final.entry.reason) == ("ops", "cancelled_by_support: changed mind")
    assert final.status_reason == "cancelled_by_support"
    assert world.calls[-1] == "release_stock"


async def run_and_describe(
    env: WorkflowEnvironment, world: FakeWorld, order: OrderInput
) -> tuple[OrderResult, WorkflowExecutionDescription]:
    """Run the order to its end; its result, and its workflow as the server then describes it."""
    queue = f"tq-{uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[OrderWorkflow], activities=world.activities()
    ):
        handle = await env.client.start_workflow(
            OrderWorkflow.run, order, id=order_workflow_id(order.order_id), task_queue=queue
        )
        return await handle.result(), await handle.describe()


async def test_an_order_not_shipped_within_its_sla_is_marked_late_once(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short=[["SKU-RED-M"]] * 2)  # backordered, rechecked after three days
    order = make_order_input(ship_sla_s=48 * 3600, backorder_recheck_s=3 * 24 * 3600)
    result, described = await run_and_describe(time_env, world, order)

    assert result.status is OrderStatus.COMPLETED  # late, not lost
    assert world.calls.count("record_delay") == 1
    [delay] = world.args["record_delay"]
    assert delay["order_id"] == order.order_id
    assert described.typed_search_attributes.get(LATE) is True
    assert world.calls.index("record_delay") < world.calls.index("create_shipment")


async def test_an_order_shipped_within_its_sla_is_never_late(
    time_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    order = make_order_input(ship_sla_s=48 * 3600)
    result, described = await run_and_describe(time_env, world, order)

    assert result.status is OrderStatus.COMPLETED
    assert "record_delay" not in world.calls
    assert described.typed_search_attributes.get(LATE) is None
