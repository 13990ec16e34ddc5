"""Labels and delivery tracking through a carrier interface."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from workflows.contracts import ActivityName, DeliveryInput, OrderRef, ShipInput, Shipment


@dataclass(frozen=True, kw_only=True)
class Tracking:
    delivered: bool
    expected_at: datetime | None = None


class Carrier(Protocol):
    """What a real carrier adapter implements; one label per order, idempotent."""

    async def create_shipment(self, order_id: str, input: ShipInput) -> Shipment:
        """Buy (or find) the order's label; returns the shipment with its tracking number."""
        ...

    async def void_shipment(self, order_id: str) -> None:
        """Void the label (no-op when there is none)."""
        ...

    async def track(self, shipment_id: str) -> Tracking:
        """Whether the parcel was delivered, else when it is expected."""
        ...


class ShippingActivities:
    """Ship, void and confirm delivery."""

    def __init__(self, carrier: Carrier) -> None:
        self._carrier = carrier

    @activity.defn(name=ActivityName.CREATE_SHIPMENT)
    async def create_shipment(self, input: ShipInput) -> Shipment:
        """Buy the label and hand the parcel to the carrier."""
        return await self._carrier.create_shipment(input.order_id, input)

    @activity.defn(name=ActivityName.VOID_SHIPMENT)
    async def void_shipment(self, input: OrderRef) -> None:
        """Compensation: void the label."""
        await self._carrier.void_shipment(input.order_id)

    @activity.defn(name=ActivityName.CONFIRM_DELIVERY)
    async def confirm_delivery(self, input: DeliveryInput) -> None:
        """Succeeds once the carrier reports delivery; until then it fails and retries."""
        tracking = await self._carrier.track(input.shipment_id)
        if tracking.delivered:
            return
        wait = None
        if tracking.expected_at is not None:
            wait = max(tracking.expected_at - datetime.now(UTC), timedelta(milliseconds=100))
        # An expected answer, not a fault: BENIGN keeps it out of error logs and metrics.
        raise ApplicationError(
            "not delivered yet",
            type="NotDelivered",
            next_retry_delay=wait,
            category=ApplicationErrorCategory.BENIGN,
        )
