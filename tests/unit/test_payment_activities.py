"""PaymentActivities against an in-memory gateway: idempotency keys, declines, payment ids."""

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.payments import PaymentActivities
from tests.harness.outside import FakeGateway, PaymentCall
from workflows.contracts import (
    AdjustPaymentInput,
    AuthorizePaymentInput,
    CapturePaymentInput,
    OrderRef,
)

AUTHORIZE = AuthorizePaymentInput(order_id="o-1", token="tok_visa", amount=3998, currency="EUR")
ADJUST = AdjustPaymentInput(
    order_id="o-1", token="tok_visa", amount=5997, currency="EUR", key="o-1:adjust:2"
)
CAPTURE = CapturePaymentInput(order_id="o-1", amount=3998, currency="EUR")
FINAL_AND_BENIGN = ("PaymentDeclined", True, ApplicationErrorCategory.BENIGN)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def payments(gateway: FakeGateway) -> PaymentActivities:
    return PaymentActivities(gateway)


def classified(error: ApplicationError) -> tuple[str | None, bool, ApplicationErrorCategory]:
    return error.type, error.non_retryable, error.category


async def test_authorize_holds_the_total_under_the_orders_authorize_key(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)

    assert gateway.calls == [
        PaymentCall(
            operation="authorize",
            order_id="o-1",
            key="o-1:authorize",
            amount=3998,
            currency="EUR",
            token="tok_visa",
        )
    ]


async def test_authorize_answers_the_gateways_payment_id(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    result = await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)

    assert result.payment_id == gateway.payment_ids["o-1:authorize"]


async def test_a_declined_authorization_is_a_final_benign_payment_declined_error(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    gateway.decline("insufficient funds")

    with pytest.raises(ApplicationError, match="insufficient funds") as raised:
        await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)

    assert classified(raised.value) == FINAL_AND_BENIGN


async def test_adjust_holds_the_new_total_under_the_key_the_workflow_chose(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    await ActivityEnvironment().run(payments.adjust_authorization, ADJUST)

    assert gateway.calls == [
        PaymentCall(
            operation="adjust",
            order_id="o-1",
            key="o-1:adjust:2",
            amount=5997,
            currency="EUR",
            token="tok_visa",
        )
    ]


async def test_adjust_answers_the_gateways_payment_id(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    result = await ActivityEnvironment().run(payments.adjust_authorization, ADJUST)

    assert result.payment_id == gateway.payment_ids["o-1:adjust:2"]


async def test_a_declined_increase_is_a_final_benign_payment_declined_error(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    gateway.decline("above the card's limit")

    with pytest.raises(ApplicationError, match="above the card's limit") as raised:
        await ActivityEnvironment().run(payments.adjust_authorization, ADJUST)

    assert classified(raised.value) == FINAL_AND_BENIGN


async def test_capture_takes_the_amount_under_the_orders_capture_key(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    await ActivityEnvironment().run(payments.capture_payment, CAPTURE)

    assert gateway.calls == [
        PaymentCall(
            operation="capture", order_id="o-1", key="o-1:capture", amount=3998, currency="EUR"
        )
    ]


async def test_capture_answers_the_gateways_payment_id(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    result = await ActivityEnvironment().run(payments.capture_payment, CAPTURE)

    assert result.payment_id == gateway.payment_ids["o-1:capture"]


async def test_void_releases_the_hold_under_the_orders_void_key(
    gateway: FakeGateway, payments: PaymentActivities
) -> None:
    await ActivityEnvironment().run(payments.void_payment, OrderRef(order_id="o-1"))

    assert gateway.calls == [PaymentCall(operation="void", order_id="o-1", key="o-1:void")]


async def test_a_retried_authorization_reuses_its_key_so_the_gateway_answers_the_same_id(
    payments: PaymentActivities,
) -> None:
    first = await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)
    again = await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)

    assert again == first
