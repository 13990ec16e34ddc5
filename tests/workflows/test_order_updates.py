"""Cancellation through the `cancel` Update (accept/refuse synchronously), the signal and Temporal.

The time-skipping server handles Updates poorly, so these run on the real dev server.
"""

import asyncio

from temporalio.testing import WorkflowEnvironment

from tests.harness.fakes import FakeWorld
from tests.harness.order_runs import (
    CANCEL,
    refusal,
    running_order,
    wait_for_status,
    wait_until_called,
)
from workflows.contracts import CancelRequest, OrderStatus
from workflows.order import OrderWorkflow


async def test_cancel_before_pick_releases_stock_and_voids_payment(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    reserved = world.gate("record_status:reserved")  # holds the order in `reserved`
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, OrderStatus.RESERVED)
        accepted = await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        reserved.set()
        result = await handle.result()

    assert accepted.status is OrderStatus.RESERVED
    assert (result.status, result.reason) == (OrderStatus.CANCELLED, "cancelled_by_support")
    assert world.calls == ["reserve_stock", "authorize_payment", "void_payment", "release_stock"]
    final = world.records[-1]
    assert final.entry.actor == "agent-7"
    assert final.entry.reason == "cancelled_by_support: customer changed their mind"
    assert final.status_reason == "cancelled_by_support"


async def test_cancel_while_picking_also_undoes_the_pick(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    picking = world.gate("pick_order")
    async with running_order(temporal_env, world) as handle:
        await wait_until_called(world, "pick_order")
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        picking.set()
        result = await handle.result()

    assert result.status is OrderStatus.CANCELLED
    assert world.calls[-3:] == ["cancel_pick", "void_payment", "release_stock"]
    assert "pack_order" not in world.calls


async def test_cancel_after_pack_undoes_pack_pick_payment_and_stock(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    packed = world.gate("record_status:packed")  # packed, and not yet handed to the carrier
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, OrderStatus.PACKED)
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        packed.set()
        result = await handle.result()

    assert result.status is OrderStatus.CANCELLED
    assert "create_shipment" not in world.calls
    undo = world.calls[world.calls.index("cancel_pack") :]
    assert undo == ["cancel_pack", "cancel_pick", "void_payment", "release_stock"]


async def test_cancel_after_ship_is_refused_and_the_order_completes(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    delivery = world.gate("confirm_delivery")
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, OrderStatus.SHIPPED)
        cause = await refusal(handle.execute_update(OrderWorkflow.cancel, CANCEL))
        delivery.set()
        result = await handle.result()

    assert cause.type == "CancelRefused"
    assert "too late to cancel" in cause.message
    assert result.status is OrderStatus.COMPLETED


async def test_late_cancel_signal_is_recorded_and_ignored(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    delivery = world.gate("confirm_delivery")
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, OrderStatus.SHIPPED)
        await handle.signal("cancel", CancelRequest(reason="too late", requested_by="ops"))
        state = await handle.query(OrderWorkflow.status)
        for _ in range(100):
            if len(state.history) > 4:
                break
            state = await handle.query(OrderWorkflow.status)
        delivery.set()
        result = await handle.result()

    assert result.status is OrderStatus.COMPLETED
    refusal = state.history[-1]
    assert (refusal.status, refusal.actor) == (OrderStatus.SHIPPED, "ops")
    assert "cancel refused" in (refusal.reason or "")
    assert any(r.entry.reason == refusal.reason for r in world.records)  # in the read model too


async def test_second_cancel_is_accepted_idempotently(temporal_env: WorkflowEnvironment) -> None:
    world = FakeWorld()
    picking = world.gate("pick_order")
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, OrderStatus.RESERVED)
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        again = await handle.execute_update(OrderWorkflow.cancel, CANCEL)  # a client's retry
        picking.set()
        result = await handle.result()

    assert again.status is OrderStatus.RESERVED
    assert result.status is OrderStatus.CANCELLED
    assert world.calls.count("release_stock") == 1


async def test_cancelling_the_workflow_from_temporal_still_compensates(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    picking = world.gate("pick_order")
    async with running_order(temporal_env, world) as handle:
        await wait_until_called(world, "pick_order")
        await handle.cancel()  # what ops do with `temporal workflow cancel`
        await asyncio.sleep(0.3)  # time for an undo that would overtake the pick to start
        picked_before_undo = "cancel_pick" not in world.calls
        picking.set()
        result = await handle.result()

    assert (result.status, result.reason) == (OrderStatus.CANCELLED, "cancelled_by_ops")
    assert world.calls[-3:] == ["cancel_pick", "void_payment", "release_stock"]
    assert world.statuses[-1] == "cancelled"
    assert picked_before_undo  # the undo waited for the pick it undoes to end
