"""What the order's workflow refuses now, read from its OrderProgress (workflows/rules.py), and
what it says it waits for."""

from typing import Any

import pytest

from tests.factories import make_address, make_order_input
from workflows.contracts import (
    CancelRequest,
    ChangeRequest,
    HoldReason,
    HoldRequest,
    LineChange,
    OrderStatus,
)
from workflows.progress import OrderProgress
from workflows.rules import cancel_refused, change_refused, hold_refused, release_refused

S = OrderStatus
HOLD = HoldRequest(reason_code=HoldReason.FRAUD_REVIEW, requested_by="agent-7", note="new card")
CANCEL = CancelRequest(reason="r", requested_by="a")
LINES = ChangeRequest(requested_by="a", lines=[LineChange(sku="SKU-RED-M", quantity=3)])
ADDRESS = ChangeRequest(requested_by="a", shipping_address=make_address(city="Bonn"))


def progress(status: OrderStatus = S.RESERVED, **fields: Any) -> OrderProgress:
    return OrderProgress(order=make_order_input(), status=status, **fields)


def held(at: OrderStatus, **fields: Any) -> OrderProgress:
    return progress(S.ON_HOLD, hold=HOLD, resume_to=at, **fields)


def test_a_reserved_order_takes_every_support_action_but_a_release() -> None:
    order = progress()

    assert cancel_refused(order) is None
    assert change_refused(order, LINES) is None
    assert hold_refused(order) is None
    assert release_refused(order) == "order is not on hold"


def test_a_second_cancel_is_the_first_one_again_even_once_it_is_too_late() -> None:
    assert cancel_refused(progress(S.PACKED, shipping=True, cancel=CANCEL)) is None


def test_a_cancel_is_refused_once_the_parcel_is_leaving() -> None:
    refusal = cancel_refused(progress(S.PACKED, shipping=True))

    assert refusal == "order is being shipped: too late to cancel, request a return"


@pytest.mark.parametrize(
    ("order", "why"),
    [
        (progress(S.COMPLETED), "order is already completed"),
        (progress(cancel=CANCEL), "order is being cancelled"),
        (progress(stopping=True), "order is stopping"),
    ],
    ids=["finished", "cancelling", "stopping"],
)
def test_a_closing_order_refuses_changes_holds_and_releases(order: OrderProgress, why: str) -> None:
    assert change_refused(order, ADDRESS) == why
    assert hold_refused(order) == why
    assert release_refused(order) == why


def test_a_held_order_is_judged_by_where_it_stopped() -> None:
    assert change_refused(held(at=S.BACKORDERED), LINES) is None
    assert change_refused(held(at=S.PICKED, picking=True), LINES) == (
        "order is picked: lines can only change before picking"
    )
    assert change_refused(held(at=S.PICKED, picking=True), ADDRESS) is None


def test_a_change_whose_lines_make_no_sense_for_the_order_says_why() -> None:
    new_sku = ChangeRequest(requested_by="a", lines=[LineChange(sku="SKU-NEW", quantity=1)])

    assert change_refused(progress(), new_sku) == "SKU-NEW is not on the order: give its unit_price"


def test_a_second_hold_names_the_hold_already_on() -> None:
    refusal = hold_refused(held(at=S.RESERVED))

    assert refusal == "order is already on hold (fraud_review by agent-7)"


def test_a_held_order_can_be_released_and_cancelled() -> None:
    order = held(at=S.RESERVED)

    assert release_refused(order) is None
    assert cancel_refused(order) is None


def test_a_held_order_waits_for_its_release_and_says_where_it_goes_back_to() -> None:
    assert held(at=S.PICKED).waiting() == (
        "release of the fraud_review hold by agent-7 (new card), then back to picked"
    )


def test_what_a_step_waits_for_comes_before_the_hold() -> None:
    order = held(at=S.BACKORDERED, waiting_for="stock of SKU-A")

    assert order.waiting() == "stock of SKU-A"
    assert progress().waiting() is None


def test_where_an_order_is_is_its_status_unless_it_is_held() -> None:
    assert progress(S.PACKED).where is S.PACKED
    assert held(at=S.BACKORDERED).where is S.BACKORDERED
