"""The pure rules of support actions: merging line changes, when the order refuses a change,
a hold, a release or a cancel (read from its OrderProgress), the `on_hold` transitions, what a
held order says it waits for, and how a change is described and reserved while it applies."""

from typing import Any

import pytest

from tests.factories import make_address, make_order_input, make_progress
from workflows.changes import _largest, describe_change
from workflows.contracts import (
    CancelRequest,
    ChangeRequest,
    HoldReason,
    HoldRequest,
    LineChange,
    OrderLine,
    OrderStatus,
    StockLine,
)
from workflows.progress import OrderProgress
from workflows.rules import (
    HOLDABLE,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    InvalidChange,
    cancel_refused,
    change_refused,
    check_transition,
    hold_refused,
    merge_lines,
    release_refused,
)

S = OrderStatus
A = OrderLine(sku="SKU-A", quantity=2, unit_price=1999)
B = OrderLine(sku="SKU-B", quantity=1, unit_price=500)
NOT_YET_PICKED = [S.PENDING, S.BACKORDERED, S.RESERVED]
GONE = [S.SHIPPED, S.DELIVERED]
HOLD = HoldRequest(reason_code=HoldReason.FRAUD_REVIEW, requested_by="agent-7", note="new card")
CANCEL = CancelRequest(reason="r", requested_by="a")
LINES = ChangeRequest(requested_by="a", lines=[LineChange(sku="SKU-RED-M", quantity=3)])
ADDRESS = ChangeRequest(requested_by="a", shipping_address=make_address(city="Bonn"))
BOTH = ChangeRequest(requested_by="a", lines=LINES.lines, shipping_address=ADDRESS.shipping_address)


def held(at: OrderStatus, **fields: Any) -> OrderProgress:
    return make_progress(S.ON_HOLD, hold=HOLD, resume_to=at, **fields)


# merge_lines


def test_a_new_quantity_replaces_the_old_one_at_the_lines_price() -> None:
    merged = merge_lines([A, B], [LineChange(sku="SKU-A", quantity=5)])

    assert merged == [OrderLine(sku="SKU-A", quantity=5, unit_price=1999), B]


def test_the_lines_own_price_given_again_is_not_a_price_change() -> None:
    merged = merge_lines([A], [LineChange(sku="SKU-A", quantity=3, unit_price=1999)])

    assert merged == [OrderLine(sku="SKU-A", quantity=3, unit_price=1999)]


def test_quantity_0_removes_the_line_and_keeps_the_others_in_order() -> None:
    merged = merge_lines([A, B], [LineChange(sku="SKU-A", quantity=0)])

    assert merged == [B]


def test_removing_a_sku_the_order_does_not_have_changes_nothing() -> None:
    assert merge_lines([A, B], [LineChange(sku="SKU-Z", quantity=0)]) == [A, B]


def test_a_new_sku_is_appended_at_its_given_price() -> None:
    merged = merge_lines([A], [LineChange(sku="SKU-C", quantity=4, unit_price=250)])

    assert merged == [A, OrderLine(sku="SKU-C", quantity=4, unit_price=250)]


def test_several_changes_apply_together() -> None:
    changes = [
        LineChange(sku="SKU-B", quantity=0),
        LineChange(sku="SKU-C", quantity=1, unit_price=100),
        LineChange(sku="SKU-A", quantity=1),
    ]

    merged = merge_lines([A, B], changes)

    assert merged == [
        OrderLine(sku="SKU-A", quantity=1, unit_price=1999),
        OrderLine(sku="SKU-C", quantity=1, unit_price=100),
    ]


def test_a_new_sku_without_a_price_is_invalid() -> None:
    with pytest.raises(InvalidChange, match=r"^SKU-C is not on the order: give its unit_price$"):
        merge_lines([A], [LineChange(sku="SKU-C", quantity=1)])


def test_a_price_change_of_a_line_on_the_order_is_invalid() -> None:
    with pytest.raises(InvalidChange, match=r"^the price of SKU-A cannot be changed$"):
        merge_lines([A], [LineChange(sku="SKU-A", quantity=2, unit_price=1)])


def test_removing_every_line_is_invalid_cancel_instead() -> None:
    changes = [LineChange(sku="SKU-A", quantity=0), LineChange(sku="SKU-B", quantity=0)]

    with pytest.raises(InvalidChange, match="at least one line: cancel it instead"):
        merge_lines([A, B], changes)


def test_merging_leaves_the_orders_lines_as_they_were() -> None:
    lines = [A, B]

    merge_lines(lines, [LineChange(sku="SKU-A", quantity=0)])

    assert lines == [A, B]


# change_refused: lines until picking, the address until shipping


@pytest.mark.parametrize("status", NOT_YET_PICKED)
def test_lines_can_change_until_the_warehouse_starts_picking(status: OrderStatus) -> None:
    assert change_refused(make_progress(status), LINES) is None


def test_lines_cannot_change_once_picking_started() -> None:
    refusal = change_refused(make_progress(S.RESERVED, picking=True), LINES)

    assert refusal == "order is being picked: lines can only change before picking"


@pytest.mark.parametrize("status", [S.PICKED, S.PACKED, *GONE])
def test_lines_cannot_change_after_picking(status: OrderStatus) -> None:
    refusal = change_refused(make_progress(status, picking=True), LINES)

    assert refusal == f"order is {status}: lines can only change before picking"


def credit_paid(store_credit: int, token: str = "tok_visa") -> OrderProgress:
    """make_order_input's order (2 x SKU-RED-M at 19.99) paid partly with store credit."""
    order = make_order_input(store_credit=store_credit, payment_token=token)
    return OrderProgress(order=order, status=S.RESERVED)


def lines_to(quantity: int) -> ChangeRequest:
    return ChangeRequest(requested_by="a", lines=[LineChange(sku="SKU-RED-M", quantity=quantity)])


def test_a_change_may_not_take_the_total_below_the_store_credit_it_is_paid_with() -> None:
    refusal = change_refused(credit_paid(3000), lines_to(1))  # 19.99 < 30.00 of credit

    assert refusal == "the new total would be below the 30.00 EUR of store credit it is paid with"
    assert change_refused(credit_paid(1999), lines_to(1)) is None  # exactly the credit: fine


def test_an_order_paid_by_credit_alone_may_not_grow_beyond_it() -> None:
    refusal = change_refused(credit_paid(3998, token=""), lines_to(3))

    assert refusal == "the order is paid with store credit alone: it has no card to pay more"
    assert change_refused(credit_paid(3998), lines_to(3)) is None  # a card pays the rest


@pytest.mark.parametrize("status", sorted(HOLDABLE))
def test_the_address_can_change_until_shipping_starts(status: OrderStatus) -> None:
    picking = status in (S.PICKED, S.PACKED)

    assert change_refused(make_progress(status, picking=picking), ADDRESS) is None


def test_the_address_cannot_change_once_the_parcel_is_being_shipped() -> None:
    refusal = change_refused(make_progress(S.PACKED, picking=True, shipping=True), ADDRESS)

    assert refusal == "order is being shipped: the address can only change until it ships"


@pytest.mark.parametrize("status", GONE)
def test_the_address_cannot_change_after_shipping(status: OrderStatus) -> None:
    refusal = change_refused(make_progress(status, picking=True, shipping=True), ADDRESS)

    assert refusal == f"order is {status}: the address can only change until it ships"


def test_a_change_of_both_is_refused_for_its_lines_when_only_they_are_too_late() -> None:
    refusal = change_refused(make_progress(S.PICKED, picking=True), BOTH)

    assert refusal == "order is picked: lines can only change before picking"


def test_a_change_whose_lines_make_no_sense_for_the_order_says_why() -> None:
    new_sku = ChangeRequest(requested_by="a", lines=[LineChange(sku="SKU-NEW", quantity=1)])

    refusal = change_refused(make_progress(), new_sku)

    assert refusal == "SKU-NEW is not on the order: give its unit_price"


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_nothing_changes_on_a_finished_order(status: OrderStatus) -> None:
    assert change_refused(make_progress(status), BOTH) == f"order is already {status}"


@pytest.mark.parametrize(
    ("progress", "why"),
    [
        (make_progress(cancel=CANCEL), "order is being cancelled"),
        (make_progress(stopping=True), "order is stopping"),
    ],
    ids=["cancelling", "stopping"],
)
def test_a_closing_order_refuses_changes_holds_and_releases(
    progress: OrderProgress, why: str
) -> None:
    assert change_refused(progress, ADDRESS) == why
    assert hold_refused(progress) == why
    assert release_refused(progress) == why


def test_a_held_order_is_judged_by_where_it_stopped() -> None:
    assert change_refused(held(at=S.BACKORDERED), LINES) is None
    assert change_refused(held(at=S.PICKED, picking=True), LINES) == (
        "order is picked: lines can only change before picking"
    )
    assert change_refused(held(at=S.PICKED, picking=True), ADDRESS) is None


# hold_refused and release_refused: one hold at a time, anywhere before it ships


@pytest.mark.parametrize("status", sorted(HOLDABLE))
def test_an_order_can_be_held_until_it_ships(status: OrderStatus) -> None:
    assert hold_refused(make_progress(status)) is None


def test_a_hold_is_refused_once_the_parcel_is_being_shipped() -> None:
    refusal = hold_refused(make_progress(S.PACKED, shipping=True))

    assert refusal == "order is being shipped: too late to hold"


@pytest.mark.parametrize("status", GONE)
def test_a_hold_is_refused_after_shipping(status: OrderStatus) -> None:
    assert (
        hold_refused(make_progress(status, shipping=True)) == f"order is {status}: too late to hold"
    )


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_a_finished_order_cannot_be_held(status: OrderStatus) -> None:
    assert hold_refused(make_progress(status)) == f"order is already {status}"


def test_a_second_hold_names_the_hold_already_on() -> None:
    refusal = hold_refused(held(at=S.RESERVED))

    assert refusal == "order is already on hold (fraud_review by agent-7)"


def test_only_a_held_order_can_be_released() -> None:
    assert release_refused(make_progress()) == "order is not on hold"
    assert release_refused(held(at=S.RESERVED)) is None


# cancel_refused: until the parcel leaves; a second cancel is the first one again


@pytest.mark.parametrize("status", [S.PENDING, S.BACKORDERED, S.RESERVED, S.PICKED, S.PACKED])
def test_an_order_can_be_cancelled_until_it_ships(status: OrderStatus) -> None:
    assert cancel_refused(make_progress(status)) is None


def test_cancellation_is_refused_once_the_parcel_is_leaving_or_gone() -> None:
    assert cancel_refused(make_progress(S.PACKED, shipping=True)) == (
        "order is being shipped: too late to cancel, request a return"
    )
    assert cancel_refused(make_progress(S.SHIPPED, shipping=True)) == (
        "order is shipped: too late to cancel, request a return"
    )
    assert cancel_refused(make_progress(S.CANCELLED)) == "order is already cancelled"


def test_a_second_cancel_is_the_first_one_again_even_once_it_is_too_late() -> None:
    assert cancel_refused(make_progress(S.PACKED, shipping=True, cancel=CANCEL)) is None


# What the order says it waits for


def test_a_held_order_waits_for_its_release_and_says_where_it_goes_back_to() -> None:
    assert held(at=S.PICKED).waiting() == (
        "release of the fraud_review hold by agent-7 (new card), then back to picked"
    )


def test_what_a_step_waits_for_comes_before_the_hold() -> None:
    progress = held(at=S.BACKORDERED, waiting_for="stock of SKU-A")

    assert progress.waiting() == "stock of SKU-A"
    assert make_progress().waiting() is None


def test_where_an_order_is_is_its_status_unless_it_is_held() -> None:
    assert make_progress(S.PACKED).where is S.PACKED
    assert held(at=S.BACKORDERED).where is S.BACKORDERED


# The on_hold transitions


def test_holdable_is_every_status_before_shipping() -> None:
    assert {S.PENDING, S.BACKORDERED, S.RESERVED, S.PICKED, S.PACKED} == HOLDABLE


@pytest.mark.parametrize("status", sorted(HOLDABLE))
def test_every_holdable_status_moves_to_on_hold_and_back(status: OrderStatus) -> None:
    check_transition(status, S.ON_HOLD)
    check_transition(S.ON_HOLD, status)


def test_a_held_order_can_be_cancelled() -> None:
    check_transition(S.ON_HOLD, S.CANCELLED)
    assert cancel_refused(held(at=S.RESERVED)) is None


def test_on_hold_is_not_terminal() -> None:
    assert S.ON_HOLD not in TERMINAL
    assert TRANSITIONS[S.ON_HOLD]


@pytest.mark.parametrize("new", [S.SHIPPED, S.DELIVERED, S.COMPLETED, S.ON_HOLD])
def test_a_held_order_cannot_skip_ahead_or_be_held_again(new: OrderStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(S.ON_HOLD, new)


@pytest.mark.parametrize("status", [*GONE, *sorted(TERMINAL)])
def test_an_order_past_packing_never_moves_to_on_hold(status: OrderStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(status, S.ON_HOLD)


# How a change is described in the history, and what is reserved while it applies


def test_a_change_is_described_sku_by_sku_with_the_address_and_the_new_total() -> None:
    before = make_order_input(lines=[A, B])
    lines = [
        OrderLine(sku="SKU-A", quantity=3, unit_price=1999),
        OrderLine(sku="SKU-C", quantity=1, unit_price=1),
    ]
    address = make_address(line1="2 Rue de Rivoli", city="Paris", country="FR")
    after = make_order_input(lines=lines, shipping_address=address, order_id=before.order_id)

    assert describe_change(before, after) == (
        "SKU-A 2 → 3, SKU-B 1 → 0, SKU-C 0 → 1, address: 2 Rue de Rivoli, Paris, FR, "
        "total 59.98 EUR"
    )


def test_a_change_that_changes_nothing_says_so() -> None:
    order = make_order_input(lines=[A, B])

    assert describe_change(order, order) == "no change"


def test_while_a_change_applies_each_sku_keeps_the_larger_of_its_quantities() -> None:
    before = [A, B]
    after = [
        OrderLine(sku="SKU-A", quantity=1, unit_price=1999),
        OrderLine(sku="SKU-C", quantity=3, unit_price=1),
    ]

    assert _largest(before, after) == [
        StockLine(sku="SKU-A", quantity=2),
        StockLine(sku="SKU-B", quantity=1),
        StockLine(sku="SKU-C", quantity=3),
    ]
