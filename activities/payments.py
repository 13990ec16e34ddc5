"""Payments through a gateway interface; the workflow never knows which gateway it is.

Every call's outcome is also written to the OMS's own books (`PaymentBook`: the payment and its
append-only transactions), under the call's idempotency key, so a retry records it once.
"""

from collections.abc import Awaitable
from dataclasses import replace
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from db.payments import Transaction
from workflows.contracts import (
    ActivityName,
    AdjustPaymentInput,
    AuthorizePaymentInput,
    CapturePaymentInput,
    OrderRef,
    PaymentResult,
)
from workflows.money_contracts import MoneyError, RefundPaymentInput


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

    async def void(self, order_id: str, key: str) -> int:
        """Release the hold; returns the amount released (0 when nothing was authorized)."""
        ...

    async def refund(self, order_id: str, amount: int, currency: str, key: str) -> str:
        """Give back `amount` of the captured money; returns the refund's id; raises
        PaymentDeclined when the card cannot take it (a closed account)."""
        ...


class PaymentBook(Protocol):
    """Where the OMS keeps its own record of each call (db.payments in production)."""

    async def record(self, tx: Transaction) -> None: ...


class PaymentActivities:
    """Authorize, capture and void with idempotency keys `{order_id}:{step}`."""

    def __init__(self, gateway: PaymentGateway, book: PaymentBook) -> None:
        self._gateway, self._book = gateway, book

    @activity.defn(name=ActivityName.AUTHORIZE_PAYMENT)
    async def authorize_payment(self, input: AuthorizePaymentInput) -> PaymentResult:
        """Authorize the order total; a decline is final."""
        key = f"{input.order_id}:authorize"
        tx = Transaction(
            order_id=input.order_id,
            kind="authorize",
            amount=input.amount,
            currency=input.currency,
            key=key,
        )
        call = self._gateway.authorize(
            input.order_id, input.token, input.amount, input.currency, key
        )
        return await self._booked(tx, call)

    @activity.defn(name=ActivityName.ADJUST_AUTHORIZATION)
    async def adjust_authorization(self, input: AdjustPaymentInput) -> PaymentResult:
        """Hold a changed order's new total; a declined increase is final."""
        tx = Transaction(
            order_id=input.order_id,
            kind="adjust",
            amount=input.amount,
            currency=input.currency,
            key=input.key,
        )
        call = self._gateway.adjust(
            input.order_id, input.token, input.amount, input.currency, input.key
        )
        return await self._booked(tx, call)

    @activity.defn(name=ActivityName.CAPTURE_PAYMENT)
    async def capture_payment(self, input: CapturePaymentInput) -> PaymentResult:
        """Capture the authorized amount once the goods shipped."""
        key = f"{input.order_id}:capture"  # a capture is never declined: no refusal to record
        payment_id = await self._gateway.capture(input.order_id, input.amount, input.currency, key)
        tx = Transaction(
            order_id=input.order_id,
            kind="capture",
            amount=input.amount,
            currency=input.currency,
            key=key,
            reference=payment_id,
        )
        await self._book.record(tx)
        return PaymentResult(payment_id=payment_id)

    @activity.defn(name=ActivityName.VOID_PAYMENT)
    async def void_payment(self, input: OrderRef) -> None:
        """Compensation: release the authorization."""
        key = f"{input.order_id}:void"
        released = await self._gateway.void(input.order_id, key)
        if released:
            tx = Transaction(order_id=input.order_id, kind="void", amount=released, key=key)
            await self._book.record(tx)

    @activity.defn(name=ActivityName.REFUND_PAYMENT)
    async def refund_payment(self, input: RefundPaymentInput) -> PaymentResult:
        """Give a refund's amount back to the card; a refusal is final (`RefundDeclined`)."""
        key = f"{input.refund_id}:refund"
        tx = Transaction(
            order_id=input.order_id,
            kind="refund",
            amount=input.amount,
            currency=input.currency,
            key=key,
            refund_id=input.refund_id,
        )
        call = self._gateway.refund(input.order_id, input.amount, input.currency, key)
        return await self._booked(tx, call, MoneyError.REFUND_DECLINED)

    async def _booked(
        self, tx: Transaction, call: Awaitable[str], refused: str = "PaymentDeclined"
    ) -> PaymentResult:
        """Make the gateway call and record how it ended, under the call's own key: its
        reference when done, the reason when declined (then a final `refused` error)."""
        try:
            reference = await call
        except PaymentDeclined as declined:
            await self._book.record(replace(tx, outcome="declined", detail=str(declined)))
            raise _declined(declined, refused) from None
        await self._book.record(replace(tx, reference=reference))
        return PaymentResult(payment_id=reference)


def _declined(declined: PaymentDeclined, kind: str = "PaymentDeclined") -> ApplicationError:
    return ApplicationError(
        str(declined),
        type=kind,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,  # a business answer, not a fault
    )
