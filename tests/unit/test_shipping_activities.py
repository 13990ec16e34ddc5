"""ShippingActivities against an in-memory carrier: labels, voids, and waiting for delivery."""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.shipping import ShippingActivities
from tests.factories import make_address
from tests.harness.outside import CarrierCall, FakeCarrier
from workflows.contracts import DeliveryInput, OrderRef, ShipInput, StockLine

SHIP = ShipInput(
    order_id="o-42", address=make_address(), lines=[StockLine(sku="SKU-RED-M", quantity=2)]
)
PARCEL = DeliveryInput(order_id="o-42", shipment_id="shp-1")


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def shipping(carrier: FakeCarrier) -> ShippingActivities:
    return ShippingActivities(carrier)


async def not_delivered(shipping: ShippingActivities) -> ApplicationError:
    """The error confirm_delivery raises for PARCEL (the test fails when it raises none)."""
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(shipping.confirm_delivery, PARCEL)
    return raised.value


async def test_create_shipment_buys_the_label_for_the_order_its_address_and_lines(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    await ActivityEnvironment().run(shipping.create_shipment, SHIP)

    assert carrier.calls == [CarrierCall(operation="create_shipment", order_id="o-42", input=SHIP)]


async def test_create_shipment_answers_the_carriers_shipment_and_tracking_number(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    shipment = await ActivityEnvironment().run(shipping.create_shipment, SHIP)

    assert shipment == carrier.labels["o-42"]


async def test_void_shipment_voids_the_orders_label(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    await ActivityEnvironment().run(shipping.void_shipment, OrderRef(order_id="o-42"))

    assert carrier.calls == [CarrierCall(operation="void_shipment", order_id="o-42")]


async def test_confirm_delivery_returns_once_the_carrier_reports_the_parcel_delivered(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    await ActivityEnvironment().run(shipping.confirm_delivery, PARCEL)

    assert carrier.calls == [CarrierCall(operation="track", shipment_id="shp-1")]


async def test_a_parcel_not_delivered_yet_is_a_retryable_benign_not_delivered_error(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    carrier.not_delivered("shp-1")

    error = await not_delivered(shipping)

    assert (error.type, error.non_retryable, error.category) == (
        "NotDelivered",
        False,
        ApplicationErrorCategory.BENIGN,
    )


async def test_the_next_attempt_waits_until_the_parcel_is_expected(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    carrier.not_delivered("shp-1", expected_at=datetime.now(UTC) + timedelta(hours=1))

    error = await not_delivered(shipping)

    assert error.next_retry_delay is not None
    assert timedelta(minutes=59) < error.next_retry_delay <= timedelta(hours=1)


async def test_an_overdue_parcel_is_asked_about_again_after_100_ms(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    carrier.not_delivered("shp-1", expected_at=datetime.now(UTC) - timedelta(hours=1))

    error = await not_delivered(shipping)

    assert error.next_retry_delay == timedelta(milliseconds=100)


async def test_without_an_expected_time_the_retry_policy_sets_the_next_attempt(
    carrier: FakeCarrier, shipping: ShippingActivities
) -> None:
    carrier.not_delivered("shp-1", expected_at=None)

    error = await not_delivered(shipping)

    assert error.next_retry_delay is None
