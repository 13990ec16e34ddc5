"""Payments through a gateway interface; the workflow never knows which gateway it is."""

from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from workflows.contracts import (
    ActivityName,
    AdjustPaymentInput,
    AuthorizePaymentInput,
    CapturePaymentInput,
    OrderRef,
    PaymentResult,
)


class PaymentDeclined(Exception):
    """The gateway refused the payment: a business outcome, never retried."""


class PaymentGateway(Protocol):
    """What a real payment gateway adapter implements. Every call is idempotent by `key`."""

    async def authorize(
        self, order_id: str, token: str, amount: int, currency: str, key: str
    ) -> str:
        """Hold `amount`; returns the payment id; raises PaymentDeclined."""
        ...

    async def adjust(self, order_id: str, token: str, amount: int, currency: str, key: str) -> str:
        """Make the held amount `amount`: an increment (may raise PaymentDeclined) or a
        partial void. Returns the payment id."""
        ...

    async def capture(self, order_id: str, amount: int, currency: str, key: str) -> str:
        """Take the held money; returns the payment id."""
        ...

    async def void(self, order_id: str, key: str) -> None:
        """Release the hold (no-op when nothing was authorized)."""
        ...


class PaymentActivities:
    """Authorize, capture and void with idempotency keys `{order_id}:{step}`."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    @activity.defn(name=ActivityName.AUTHORIZE_PAYMENT)
    async def authorize_payment(self, input: AuthorizePaymentInput) -> PaymentResult:
        """Authorize the order total; a decline is final."""
        key = f"{input.order_id}:authorize"
        try:
            payment_id = await self._gateway.authorize(
                input.order_id, input.token, input.amount, input.currency, key
            )
        except PaymentDeclined as declined:
            raise _declined(declined) from None
        return PaymentResult(payment_id=payment_id)

    @activity.defn(name=ActivityName.ADJUST_AUTHORIZATION)
    async def adjust_authorization(self, input: AdjustPaymentInput) -> PaymentResult:
        """Hold a changed order's new total; a declined increase is final."""
        try:
            payment_id = await self._gateway.adjust(
                input.order_id, input.token, input.amount, input.currency, input.key
            )
        except PaymentDeclined as declined:
            raise _declined(declined) from None
        return PaymentResult(payment_id=payment_id)

    @activity.defn(name=ActivityName.CAPTURE_PAYMENT)
    async def capture_payment(self, input: CapturePaymentInput) -> PaymentResult:
        """Capture the authorized amount once the goods shipped."""
        key = f"{input.order_id}:capture"
        payment_id = await self._gateway.capture(input.order_id, input.amount, input.currency, key)
        return PaymentResult(payment_id=payment_id)

    @activity.defn(name=ActivityName.VOID_PAYMENT)
    async def void_payment(self, input: OrderRef) -> None:
        """Compensation: release the authorization."""
        await self._gateway.void(input.order_id, f"{input.order_id}:void")


def _declined(declined: PaymentDeclined) -> ApplicationError:
    return ApplicationError(
        str(declined),
        type="PaymentDeclined",
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,  # a business answer, not a fault
    )
