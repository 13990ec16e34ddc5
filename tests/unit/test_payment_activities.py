"""PaymentActivities against an in-memory gateway: idempotency keys, declines, payment ids."""

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.payments import PaymentActivities
from db.payments import Transaction
from tests.harness.outside import FakeBook, FakeGateway, PaymentCall
from workflows.contracts import (
    AdjustPaymentInput,
    AuthorizePaymentInput,
    CapturePaymentInput,
    OrderRef,
)
from workflows.money_contracts import RefundPaymentInput

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
def book() -> FakeBook:
    return FakeBook()


@pytest.fixture
def payments(gateway: FakeGateway, book: FakeBook) -> PaymentActivities:
    return PaymentActivities(gateway, book)


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


REFUND = RefundPaymentInput(refund_id="r-1", order_id="o-1", amount=1999, currency="EUR")


async def test_each_call_is_recorded_in_the_oms_books_under_its_key(
    payments: PaymentActivities, book: FakeBook
) -> None:
    env = ActivityEnvironment()
    authorized = await env.run(payments.authorize_payment, AUTHORIZE)
    captured = await env.run(payments.capture_payment, CAPTURE)

    assert [(t.kind, t.amount, t.key, t.outcome) for t in book.transactions] == [
        ("authorize", 3998, "o-1:authorize", "succeeded"),
        ("capture", 3998, "o-1:capture", "succeeded"),
    ]
    assert [t.reference for t in book.transactions] == [
        authorized.payment_id,
        captured.payment_id,
    ]


async def test_a_declined_authorization_is_recorded_as_declined_with_the_reason(
    gateway: FakeGateway, payments: PaymentActivities, book: FakeBook
) -> None:
    gateway.decline("insufficient funds")

    with pytest.raises(ApplicationError):
        await ActivityEnvironment().run(payments.authorize_payment, AUTHORIZE)

    [declined] = book.transactions
    assert (declined.outcome, declined.detail) == ("declined", "insufficient funds")


async def test_a_refund_goes_to_the_gateway_under_the_refunds_key(
    gateway: FakeGateway, payments: PaymentActivities, book: FakeBook
) -> None:
    await ActivityEnvironment().run(payments.refund_payment, REFUND)

    assert gateway.calls[-1].key == "r-1:refund"
    assert book.transactions == [
        Transaction(
            order_id="o-1",
            kind="refund",
            amount=1999,
            currency="EUR",
            key="r-1:refund",
            reference=gateway.payment_ids["r-1:refund"],
            refund_id="r-1",
        )
    ]


async def test_a_refused_refund_is_final_and_benign_with_its_own_type(
    gateway: FakeGateway, payments: PaymentActivities, book: FakeBook
) -> None:
    gateway.refusing_refunds = "account closed"

    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(payments.refund_payment, REFUND)

    assert classified(refused.value) == ("RefundDeclined", True, ApplicationErrorCategory.BENIGN)
    assert book.transactions[0].outcome == "declined"
