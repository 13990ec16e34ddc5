"""One function per order step: its activity, timeouts, retries and UI summary; and the undos.

Activities are called by their `ActivityName`, so this module (like the workflow) imports no
database or HTTP code. Which undo belongs to which step is written in workflows/order.py.
"""

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError

from workflows.contracts import (
    ActivityName,
    AdjustPaymentInput,
    AuthorizePaymentInput,
    CapturePaymentInput,
    ChangeReservationInput,
    DeliveryInput,
    OrderInput,
    OrderLine,
    OrderRef,
    PaymentResult,
    RecordAuditInput,
    RecordStatusInput,
    ReserveStockInput,
    ReserveStockResult,
    ShipInput,
    Shipment,
    StockLine,
    WarehouseInput,
    WarehouseResult,
)
from workflows.integration_contracts import RecordDelayInput
from workflows.money_contracts import HoldStoreCreditInput, InvoiceResult
from workflows.rules import format_money

A = ActivityName
R = TypeVar("R")

# Our own database: retry until it answers (a restart of PostgreSQL must not fail an order).
OWN_DB = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)
# Outside systems: transient errors retry for a while, business refusals never.
OUTSIDE = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["PaymentDeclined"],
)
SHORT = timedelta(seconds=10)
OUTSIDE_CALL = timedelta(seconds=30)
OUTSIDE_GIVE_UP = timedelta(minutes=10)


async def _call(
    name: ActivityName, arg: object, result_type: type[R], summary: str, outside: bool
) -> R:
    options: dict[str, Any] = (
        {"start_to_close_timeout": OUTSIDE_CALL, "schedule_to_close_timeout": OUTSIDE_GIVE_UP}
        if outside
        else {"start_to_close_timeout": SHORT}
    )
    step = workflow.start_activity(
        name,
        arg,
        result_type=result_type,
        retry_policy=OUTSIDE if outside else OWN_DB,
        summary=summary,
        **options,
    )
    try:
        result: R = await asyncio.shield(step)
    except asyncio.CancelledError:
        # The workflow is being cancelled. Let the step end before its undo runs: an undo that
        # overtook its step (a release before the reservation commits) would leak stock or money.
        with suppress(ActivityError):
            await step
        raise
    return result


# The undo activities, as a person reads them in the Temporal UI.
UNDO_SUMMARIES: dict[ActivityName, str] = {
    A.RELEASE_STOCK: "Release stock",
    A.VOID_PAYMENT: "Void authorization",
    A.CANCEL_PICK: "Cancel pick list",
    A.CANCEL_PACK: "Unpack parcel",
    A.VOID_SHIPMENT: "Void label",
    A.RELEASE_STORE_CREDIT: "Release store credit",
}


async def undo(name: ActivityName, order_id: str) -> None:
    """Compensations retry until they succeed: an undo that gives up would lose stock or money."""
    workflow.logger.info("compensating: %s", name)
    await workflow.execute_activity(
        name,
        OrderRef(order_id=order_id),
        start_to_close_timeout=OUTSIDE_CALL,
        retry_policy=OWN_DB,
        summary=UNDO_SUMMARIES[name],
    )


def stock_lines(order: OrderInput) -> list[StockLine]:
    return as_stock(order.lines)


def as_stock(lines: Sequence[OrderLine]) -> list[StockLine]:
    return [StockLine(sku=line.sku, quantity=line.quantity) for line in lines]


def describe_lines(lines: Sequence[StockLine], limit: int = 3) -> str:
    """'2 × SKU-RED-M, 1 × SKU-BLUE-L and 4 more': what a person reads in the Temporal UI."""
    shown = ", ".join(f"{line.quantity} × {line.sku}" for line in lines[:limit])
    return shown if len(lines) <= limit else f"{shown} and {len(lines) - limit} more"


async def reserve(order: OrderInput) -> list[str]:
    """Reserve every line or none; returns the SKUs that are short (empty when reserved)."""
    lines = stock_lines(order)
    request = ReserveStockInput(order_id=order.order_id, lines=lines)
    summary = f"Reserve {describe_lines(lines)}"
    result = await _call(A.RESERVE_STOCK, request, ReserveStockResult, summary, outside=False)
    return result.missing


async def change_reservation(order_id: str, lines: list[StockLine]) -> list[str]:
    """Make the open reservation exactly `lines`, all or nothing; returns the SKUs short."""
    request = ChangeReservationInput(order_id=order_id, lines=lines)
    summary = f"Reserve exactly {describe_lines(lines)}"
    result = await _call(A.CHANGE_RESERVATION, request, ReserveStockResult, summary, outside=False)
    return result.missing


def card_amount(order: OrderInput, total: int | None = None) -> int:
    """What the card pays of the order's total (or of `total`): the rest is store credit."""
    return (order.total if total is None else total) - order.store_credit


async def hold_store_credit(order: OrderInput) -> None:
    """Hold the store credit the order pays with; spent in between: the order fails."""
    request = HoldStoreCreditInput(
        order_id=order.order_id,
        customer_id=order.customer_id,
        amount=order.store_credit,
        currency=order.currency,
    )
    summary = f"Hold {format_money(order.store_credit, order.currency)} store credit"
    await _call(A.HOLD_STORE_CREDIT, request, type(None), summary, outside=False)


async def issue_invoice(order: OrderInput) -> None:
    """Redeem the held store credit and issue the invoice, in one transaction.

    A local activity, like `record_status`: a few rows in our own database need no task queue
    round trip through the server, which is the order pipeline's limit."""
    await workflow.execute_local_activity(
        A.ISSUE_INVOICE,
        OrderRef(order_id=order.order_id),
        result_type=InvoiceResult,
        start_to_close_timeout=SHORT,
        retry_policy=OWN_DB,
        summary="Issue the invoice",
    )


async def adjust_authorization(order: OrderInput, total: int, key: str) -> None:
    """Hold the card's part of `total` instead: more may be declined, less is a partial void."""
    request = AdjustPaymentInput(
        order_id=order.order_id,
        token=order.payment_token,
        amount=card_amount(order, total),
        currency=order.currency,
        key=key,
    )
    summary = f"Adjust authorization to {format_money(request.amount, order.currency)}"
    await _call(A.ADJUST_AUTHORIZATION, request, PaymentResult, summary, outside=True)


async def authorize(order: OrderInput) -> None:
    request = AuthorizePaymentInput(
        order_id=order.order_id,
        token=order.payment_token,
        amount=card_amount(order),
        currency=order.currency,
    )
    money = format_money(request.amount, order.currency)
    await _call(A.AUTHORIZE_PAYMENT, request, PaymentResult, f"Authorize {money}", outside=True)


async def pick(order: OrderInput) -> None:
    request = WarehouseInput(order_id=order.order_id, lines=stock_lines(order))
    summary = f"Pick {describe_lines(request.lines)}"
    await _call(A.PICK_ORDER, request, WarehouseResult, summary, outside=True)


async def pack(order: OrderInput) -> None:
    request = WarehouseInput(order_id=order.order_id, lines=stock_lines(order))
    summary = f"Pack {describe_lines(request.lines)}"
    await _call(A.PACK_ORDER, request, WarehouseResult, summary, outside=True)


async def ship(order: OrderInput) -> Shipment:
    """Buy the label, then book the units out of the building (on_hand and reserved both drop)."""
    city = f"{order.shipping_address.city}, {order.shipping_address.country}"
    request = ShipInput(
        order_id=order.order_id, address=order.shipping_address, lines=stock_lines(order)
    )
    shipment = await _call(A.CREATE_SHIPMENT, request, Shipment, f"Ship to {city}", outside=True)
    ref, booked = OrderRef(order_id=order.order_id), f"Book out {describe_lines(request.lines)}"
    await _call(A.SHIP_STOCK, ref, type(None), booked, outside=False)
    return shipment


async def capture(order: OrderInput, amount: int | None = None) -> None:
    """Capture the card's part of the total (or `amount` of it: an advance exchange's rest)."""
    request = CapturePaymentInput(
        order_id=order.order_id,
        amount=card_amount(order) if amount is None else amount,
        currency=order.currency,
    )
    money = format_money(request.amount, order.currency)
    await _call(A.CAPTURE_PAYMENT, request, PaymentResult, f"Capture {money}", outside=True)


async def await_delivery(order: OrderInput, shipment: Shipment) -> bool:
    """Ask the carrier until it confirms delivery; False when the delivery window passes first."""
    try:
        await workflow.execute_activity(
            A.CONFIRM_DELIVERY,
            DeliveryInput(order_id=order.order_id, shipment_id=shipment.shipment_id),
            start_to_close_timeout=OUTSIDE_CALL,
            schedule_to_close_timeout=timedelta(seconds=order.delivery_window_s),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10)),
            summary=f"Await delivery of {shipment.tracking_number}",
        )
    except ActivityError as err:
        if isinstance(err.cause, TimeoutError):
            return False
        raise
    return True


def delivered(shipment: Shipment) -> Shipment:
    return replace(shipment, status="delivered")


async def record_status(record: RecordStatusInput) -> None:
    """Keep the read model (order row + history row) current; idempotent by (order, seq).

    A local activity: a short write to our own database that needs no task queue round trip
    through the server, which halves the server's work per order (7 of an order's 14 steps).
    """
    summary = f"Record {record.entry.status}"
    if not workflow.patched("local-projection"):  # orders started before the change
        await _call(A.RECORD_STATUS, record, type(None), summary, outside=False)
        return
    await workflow.execute_local_activity(
        A.RECORD_STATUS,
        record,
        start_to_close_timeout=SHORT,
        retry_policy=OWN_DB,
        summary=summary,
    )


async def record_delay(order: OrderInput, due_at: datetime) -> None:
    """The order missed its shipping SLA: `order.delayed` (once; a local activity)."""
    await workflow.execute_local_activity(
        A.RECORD_DELAY,
        RecordDelayInput(order_id=order.order_id, due_at=due_at),
        start_to_close_timeout=SHORT,
        retry_policy=OWN_DB,
        summary=f"Late: not shipped by {due_at:%Y-%m-%d %H:%M} UTC",
    )


async def record_audit(record: RecordAuditInput) -> None:
    """Append one support action and its outcome to the audit trail (idempotent by request)."""
    await workflow.execute_local_activity(
        A.RECORD_AUDIT,
        record,
        start_to_close_timeout=SHORT,
        retry_policy=OWN_DB,
        summary=f"Audit {record.action} {record.outcome}",
    )
