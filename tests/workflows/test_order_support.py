"""Support actions in the workflow: changes, holds and releases (Updates, on the dev server).

Most tests park the order with the automatic payment review (`payment_review_above=1`): it puts
itself on hold right after `reserved`, before picking, and waits there without holding any step.
"""

import asyncio
from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.factories import make_address, make_order_input
from tests.harness.fakes import FakeWorld
from tests.harness.order_runs import (
    CANCEL,
    Handle,
    refusal,
    running_order,
    wait_for_status,
    wait_until_called,
)
from workflows.contracts import (
    ChangeRequest,
    HoldReason,
    HoldRequest,
    LineChange,
    OrderInput,
    OrderLine,
    OrderStatus,
    ReleaseRequest,
    StockChanged,
)
from workflows.order import OrderWorkflow

S = OrderStatus
RED = OrderLine(sku="SKU-RED-M", quantity=2, unit_price=1000)
BLUE = OrderLine(sku="SKU-BLUE-L", quantity=1, unit_price=500)
RELEASE = ReleaseRequest(requested_by="agent-7", note="checked")
HOLD = HoldRequest(reason_code=HoldReason.FRAUD_REVIEW, requested_by="agent-7", note="odd")


def reviewed_order(**overrides: Any) -> OrderInput:
    """Two lines, 25.00 EUR; it holds itself for payment review once reserved."""
    return make_order_input(**({"lines": [RED, BLUE], "payment_review_above": 1} | overrides))


def change(*lines: LineChange, **fields: Any) -> ChangeRequest:
    return ChangeRequest(requested_by="agent-7", lines=list(lines) or None, **fields)


def stock(call: dict[str, Any]) -> dict[str, int]:
    """A change_reservation call's target, as {sku: quantity}."""
    return {line["sku"]: line["quantity"] for line in call["lines"]}


async def parked(handle: Handle) -> None:
    await wait_for_status(handle, S.ON_HOLD)


async def test_a_larger_quantity_reserves_the_extra_adjusts_payment_then_picks_the_new_lines(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        answer = await handle.execute_update(
            OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=3), reason="more")
        )
        await handle.execute_update(OrderWorkflow.release, RELEASE)
        result = await handle.result()

    assert (answer.status, answer.total) == (S.ON_HOLD, 3500)
    assert result.status is S.COMPLETED
    after_reserve = world.calls[world.calls.index("authorize_payment") + 1 :]
    assert after_reserve[:4] == [
        "change_reservation", "adjust_authorization", "change_reservation", "pick_order"
    ]  # fmt: skip
    first, last = world.args["change_reservation"]
    assert stock(first) == stock(last) == {"SKU-RED-M": 3, "SKU-BLUE-L": 1}
    adjust = world.args["adjust_authorization"][0]
    assert (adjust["amount"], adjust["key"]) == (
        3500,
        f"{handle.id.removeprefix('order-')}:adjust:1",
    )
    assert stock(world.args["pick_order"][0]) == {"SKU-RED-M": 3, "SKU-BLUE-L": 1}
    assert world.args["capture_payment"][0]["amount"] == 3500
    changed = next(r for r in world.records if r.lines is not None)
    assert (changed.total, changed.entry.actor) == (3500, "agent-7")
    assert changed.entry.reason == "changed: SKU-RED-M 2 → 3, total 35.00 EUR: more"
    accepted = [a for a in world.audits if a.action == "change"]
    assert [(a.outcome, a.requested_by) for a in accepted] == [("accepted", "agent-7")]


async def test_a_smaller_quantity_and_a_removed_line_release_stock_after_the_partial_void(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        removed = change(
            LineChange(sku="SKU-RED-M", quantity=1), LineChange(sku="SKU-BLUE-L", quantity=0)
        )
        answer = await handle.execute_update(OrderWorkflow.change, removed)
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        await handle.result()

    assert answer.total == 1000
    grown, shrunk = world.args["change_reservation"]
    assert stock(grown) == {"SKU-RED-M": 2, "SKU-BLUE-L": 1}  # nothing grew: nothing new held
    assert stock(shrunk) == {"SKU-RED-M": 1}  # released only once the payment followed
    assert world.args["adjust_authorization"][0]["amount"] == 1000


async def test_a_change_refused_for_stock_leaves_reservation_payment_and_lines_untouched(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short_change=[["SKU-RED-M"]])
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        refused = await refusal(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=9))
            )
        )
        await handle.execute_update(OrderWorkflow.release, RELEASE)
        result = await handle.result()

    assert "not enough stock of SKU-RED-M" in refused.message
    assert result.status is S.COMPLETED
    assert (
        world.calls.count("change_reservation") == 1
    )  # the all-or-nothing attempt, no undo needed
    assert "adjust_authorization" not in world.calls
    assert stock(world.args["pick_order"][0]) == {"SKU-RED-M": 2, "SKU-BLUE-L": 1}
    assert world.args["capture_payment"][0]["amount"] == 2500
    assert [(a.action, a.outcome, a.detail) for a in world.audits if a.action == "change"] == [
        ("change", "refused", refused.message)
    ]
    assert all(r.lines is None for r in world.records)


async def test_a_declined_payment_gives_the_extra_units_back_and_refuses_the_change(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    world.fail["adjust_authorization"] = ApplicationError(
        "over the limit", type="PaymentDeclined", non_retryable=True
    )
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        refused = await refusal(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=5))
            )
        )
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        await handle.result()

    assert (
        refused.message
        == "the payment for the new total 55.00 EUR was declined: the order is unchanged"
    )
    grown, undone = world.args["change_reservation"]
    assert stock(grown) == {"SKU-RED-M": 5, "SKU-BLUE-L": 1}
    assert stock(undone) == {"SKU-RED-M": 2, "SKU-BLUE-L": 1}


async def test_lines_are_refused_once_picking_started_but_the_address_still_changes(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    picking = world.gate("pick_order")
    new_address = make_address(line1="2 Side St", city="Hamburg")
    async with running_order(temporal_env, world) as handle:
        await wait_until_called(world, "pick_order")
        refused = await refusal(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=1))
            )
        )
        moving = asyncio.create_task(
            handle.execute_update(OrderWorkflow.change, change(shipping_address=new_address))
        )
        await asyncio.sleep(0.3)
        assert not moving.done()  # it waits for the pick in progress: changes land between steps
        picking.set()
        await moving
        result = await handle.result()

    assert refused.message == "order is being picked: lines can only change before picking"
    assert result.status is S.COMPLETED
    assert world.args["create_shipment"][0]["address"]["city"] == "Hamburg"


async def test_address_change_and_hold_are_refused_once_shipped(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    delivery = world.gate("confirm_delivery")
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, S.SHIPPED)
        moved = await refusal(
            handle.execute_update(OrderWorkflow.change, change(shipping_address=make_address()))
        )
        held = await refusal(handle.execute_update(OrderWorkflow.hold, HOLD))
        delivery.set()
        await handle.result()

    assert moved.message == "order is shipped: the address can only change until it ships"
    assert held.message == "order is shipped: too late to hold"


async def test_hold_then_cancel_undoes_everything_without_picking(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        await handle.execute_update(OrderWorkflow.cancel, CANCEL)
        result = await handle.result()

    assert (result.status, result.reason) == (S.CANCELLED, "cancelled_by_support")
    assert world.calls == ["reserve_stock", "authorize_payment", "void_payment", "release_stock"]
    assert world.statuses[-3:] == ["reserved", "on_hold", "cancelled"]


async def test_a_hold_placed_during_a_step_stops_before_the_next_and_release_resumes_there(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    packing = world.gate("pack_order")
    async with running_order(temporal_env, world) as handle:
        await wait_until_called(world, "pack_order")
        holding = asyncio.create_task(handle.execute_update(OrderWorkflow.hold, HOLD))
        await asyncio.sleep(0.3)
        packing.set()
        held = await holding
        state = await handle.query(OrderWorkflow.status)
        await asyncio.sleep(0.5)
        shipped_while_held = "create_shipment" in world.calls
        released = await handle.execute_update(OrderWorkflow.release, RELEASE)
        result = await handle.result()

    assert (held.status, state.resumes_to, state.reason) == (S.ON_HOLD, S.PACKED, "fraud_review")
    assert not shipped_while_held
    assert released.status is S.PACKED
    assert result.status is S.COMPLETED
    assert world.statuses[2:6] == ["packed", "on_hold", "packed", "shipped"]
    hold_row = world.records[3].entry
    assert (hold_row.reason, hold_row.actor) == ("fraud_review: odd", "agent-7")
    assert world.records[4].entry.reason == "released: checked"
    assert [(a.action, a.outcome) for a in world.audits] == [
        ("hold", "accepted"), ("release", "accepted")
    ]  # fmt: skip


async def test_a_held_backorder_takes_no_step_when_stock_arrives_until_released(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short=[["SKU-RED-M"], ["SKU-RED-M"]])  # the first try and the retry
    async with running_order(temporal_env, world) as handle:
        await wait_for_status(handle, S.BACKORDERED)
        await handle.execute_update(OrderWorkflow.hold, HOLD)
        await handle.signal(OrderWorkflow.stock_changed, StockChanged(skus=["SKU-RED-M"]))
        await asyncio.sleep(0.5)
        tries_while_held = world.calls.count("reserve_stock")
        await handle.execute_update(OrderWorkflow.release, RELEASE)
        result = await handle.result()

    assert tries_while_held == 2
    assert result.status is S.COMPLETED
    assert world.statuses[:4] == ["backordered", "on_hold", "backordered", "reserved"]


async def test_a_backordered_order_changed_to_available_lines_reserves_them_at_once(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld(short=[["SKU-RED-M"], ["SKU-RED-M"]])
    async with running_order(temporal_env, world, make_order_input(lines=[RED])) as handle:
        await wait_for_status(handle, S.BACKORDERED)
        swap = change(
            LineChange(sku="SKU-RED-M", quantity=0),
            LineChange(sku="SKU-GRN-S", quantity=1, unit_price=700),
        )
        answer = await handle.execute_update(OrderWorkflow.change, swap)
        result = await handle.result()

    assert answer.total == 700
    assert result.status is S.COMPLETED
    assert (
        "change_reservation" not in world.calls
    )  # nothing was held: the next try takes the new lines
    assert world.args["reserve_stock"][-1]["lines"] == [{"sku": "SKU-GRN-S", "quantity": 1}]


async def test_concurrent_changes_are_serialized_and_both_apply(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    first_step = world.gate("change_reservation")
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        first = asyncio.create_task(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=3))
            )
        )
        await wait_until_called(world, "change_reservation")
        second = asyncio.create_task(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-BLUE-L", quantity=2))
            )
        )
        await asyncio.sleep(0.5)
        calls_while_first_runs = world.calls.count("change_reservation")
        first_step.set()
        answers = await asyncio.gather(first, second)
        await handle.execute_update(OrderWorkflow.release, RELEASE)
        await handle.result()

    assert calls_while_first_runs == 1  # the second waited for the first to finish
    assert sorted(answer.total for answer in answers) == [3500, 4000]
    assert stock(world.args["pick_order"][0]) == {"SKU-RED-M": 3, "SKU-BLUE-L": 2}
    adjusts = [call["amount"] for call in world.args["adjust_authorization"]]
    assert adjusts in ([3500, 4000], [3000, 4000])  # whichever went first, never lost


async def test_validators_refuse_what_cannot_apply_without_touching_the_order(
    temporal_env: WorkflowEnvironment,
) -> None:
    world = FakeWorld()
    async with running_order(temporal_env, world, reviewed_order()) as handle:
        await parked(handle)
        priced = await refusal(
            handle.execute_update(
                OrderWorkflow.change, change(LineChange(sku="SKU-RED-M", quantity=1, unit_price=1))
            )
        )
        empty = await refusal(
            handle.execute_update(
                OrderWorkflow.change,
                change(
                    LineChange(sku="SKU-RED-M", quantity=0),
                    LineChange(sku="SKU-BLUE-L", quantity=0),
                ),
            )
        )
        again = await refusal(handle.execute_update(OrderWorkflow.hold, HOLD))
        await handle.execute_update(OrderWorkflow.release, RELEASE)
        not_held = await refusal(handle.execute_update(OrderWorkflow.release, RELEASE))
        await handle.result()

    assert priced.message == "the price of SKU-RED-M cannot be changed"
    assert empty.message == "an order needs at least one line: cancel it instead"
    assert again.message == "order is already on hold (payment_review by workflow)"
    assert not_held.message == "order is not on hold"
    assert "change_reservation" not in world.calls
    # Validator refusals never reach the handler: the API audits those, not the workflow.
    assert [(a.action, a.outcome) for a in world.audits] == [("release", "accepted")]


async def test_the_automatic_payment_review_holds_large_orders_only(
    temporal_env: WorkflowEnvironment,
) -> None:
    small, large = FakeWorld(), FakeWorld()
    async with running_order(temporal_env, small, reviewed_order(payment_review_above=2500)) as one:
        assert (await one.result()).status is S.COMPLETED
    async with running_order(temporal_env, large, reviewed_order(payment_review_above=2499)) as two:
        await parked(two)
        state = await two.query(OrderWorkflow.status)
        await two.execute_update(OrderWorkflow.release, RELEASE)
        assert (await two.result()).status is S.COMPLETED

    assert "on_hold" not in small.statuses
    assert (state.reason, state.resumes_to) == ("payment_review", S.RESERVED)
    review = large.records[large.statuses.index("on_hold")].entry
    assert (review.actor, review.reason) == (
        "workflow",
        "payment_review: total 25.00 EUR is above 24.99 EUR",
    )
