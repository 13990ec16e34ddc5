"""OrderWorkflow: one order from placement to completion, compensating every step when it stops."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():  # deterministic modules only: no database, no HTTP
    from workflows import steps
    from workflows.contracts import (
        ORDER_STATUS,
        CancelAccepted,
        CancelRequest,
        HistoryEntry,
        OrderInput,
        OrderResult,
        OrderState,
        OrderStatus,
        RecordStatusInput,
        Shipment,
        StockChanged,
    )
    from workflows.rules import TERMINAL, cancel_refusal, check_transition
    from workflows.saga import Saga

S = OrderStatus
T = TypeVar("T")


class OrderStopped(Exception):
    """Raised inside the workflow to stop the happy path: cancellation or a business failure."""

    def __init__(
        self, status: OrderStatus, reason: str, actor: str = "workflow", note: str | None = None
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.actor, self.note = status, reason, actor, note


def cancelled_by_ops() -> OrderStopped:
    """A cancellation requested through Temporal itself (UI, CLI), not through our API."""
    return OrderStopped(S.CANCELLED, "cancelled_by_ops", "ops")


@workflow.defn
class OrderWorkflow:
    """Reserve → authorize → pick → pack → ship → capture → delivered → completed, or compensate."""

    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._order = input
        self._status = S.PENDING
        self._reason: str | None = None
        self._history: list[HistoryEntry] = []
        self._seq = 0  # seq 0 is the `pending` row the API wrote
        self._cancel: CancelRequest | None = None
        self._shipping = False
        self._stock_changed = False
        self._waiting_for: str | None = None
        self._saga = Saga()

    @workflow.run
    async def run(self, input: OrderInput) -> OrderResult:
        try:
            await self._reserve_stock()
            await self._step("payment", lambda: steps.authorize(input, self._saga))
            await self._advance(S.RESERVED)
            await self._step("pick", lambda: steps.pick(input, self._saga))
            await self._advance(S.PICKED)
            await self._step("pack", lambda: steps.pack(input, self._saga))
            await self._advance(S.PACKED)
            shipment = await self._ship()
            await self._advance(S.SHIPPED, shipment=shipment)
            await self._step("payment_capture", lambda: steps.capture(input, self._saga))
            self._saga.forget()  # paid and shipped: nothing left to undo
            return await self._await_delivery(shipment)
        except OrderStopped as stop:
            return await self._stop(stop)
        except (asyncio.CancelledError, ActivityError) as err:
            if isinstance(err, ActivityError) and not isinstance(err.cause, CancelledError):
                raise
            # Cancelled from the Temporal UI/CLI, whatever it was awaiting: still compensate.
            return await self._stop(cancelled_by_ops())

    @workflow.update
    async def cancel(self, request: CancelRequest) -> CancelAccepted:
        """Accept a cancellation; the order reaches `cancelled` once its compensations ran."""
        self._cancel = self._cancel or request
        return CancelAccepted(status=self._status)

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:  # noqa: ARG002 (the SDK's shape)
        if self._cancel is None and (refusal := cancel_refusal(self._status, self._shipping)):
            raise ApplicationError(refusal, type="CancelRefused")

    @workflow.signal(name="cancel")
    async def cancel_signal(self, request: CancelRequest) -> None:
        """Same as the update, for ops; a late one is recorded in the history and ignored."""
        if self._cancel is None and (refusal := cancel_refusal(self._status, self._shipping)):
            workflow.logger.warning("cancel signal ignored: %s", refusal)
            await self._record(self._status, f"cancel refused: {refusal}", request.requested_by)
            return
        self._cancel = self._cancel or request

    @workflow.signal
    def stock_changed(self, change: StockChanged) -> None:
        """Stock grew for some SKUs: a backordered order tries to reserve again at once."""
        wanted = {line.sku for line in self._order.lines}
        relevant = not change.skus or bool(wanted & set(change.skus))
        self._stock_changed = self._stock_changed or relevant

    @workflow.query
    def status(self) -> OrderState:
        """The live status, its reason, the transitions so far and what the order waits for."""
        return OrderState(
            status=self._status,
            reason=self._reason,
            history=list(self._history),
            waiting_for=self._waiting_for,
        )

    # The steps

    async def _reserve_stock(self) -> None:
        window = timedelta(seconds=self._order.backorder_window_s)
        deadline = workflow.now() + window
        while True:
            self._checkpoint()
            self._stock_changed = False  # a wake-up during the attempt below must not be lost
            missing = await steps.reserve(self._order, self._saga)
            if not missing:
                return
            if self._status is not S.BACKORDERED:
                await self._advance(S.BACKORDERED, f"waiting for {', '.join(missing)}")
                if workflow.patched("reserve-again-once-backordered"):
                    # Stock that arrived before the API could see this order waiting sent no
                    # wake-up; one more attempt now closes that gap.
                    continue
            await self._wait_for_stock(missing, deadline)

    async def _wait_for_stock(self, missing: list[str], deadline: datetime) -> None:
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            raise OrderStopped(S.CANCELLED, "out_of_stock")
        recheck = min(remaining, timedelta(seconds=self._order.backorder_recheck_s))
        self._wait_for(f"stock of {', '.join(missing)} until {deadline:%Y-%m-%d %H:%M} UTC")
        try:
            await workflow.wait_condition(
                lambda: self._stock_changed or self._cancel is not None, timeout=recheck
            )
        except TimeoutError:
            pass  # recheck anyway: a missed wake-up costs at most `backorder_recheck`
        finally:
            self._wait_for(None)

    async def _ship(self) -> Shipment:
        self._checkpoint()
        self._shipping = True  # from here on cancellation is refused: the parcel is leaving
        shipment = await self._step("ship", lambda: steps.ship(self._order, self._saga))
        # The goods left the building: only the money can still go back.
        self._saga.forget_all_but("void_authorization")
        return shipment

    async def _await_delivery(self, shipment: Shipment) -> OrderResult:
        self._wait_for(f"delivery of {shipment.tracking_number} by {shipment.carrier}")
        delivered = await steps.await_delivery(self._order, shipment)
        if not delivered:
            return await self._finish(S.COMPLETED, "delivery_unconfirmed")
        await self._advance(S.DELIVERED, shipment=steps.delivered(shipment))
        return await self._finish(S.COMPLETED)

    async def _step(self, name: str, step: Callable[[], Awaitable[T]]) -> T:
        """Run one step at a cancellation checkpoint; a failed activity stops the order."""
        self._checkpoint()
        try:
            return await step()
        except ActivityError as err:
            raise self._failure(name, err) from err

    def _wait_for(self, what: str | None) -> None:
        """Say what the order waits for: in the `status` query and on the UI's workflow page."""
        self._waiting_for = what
        waiting = f", waiting for {what}" if what else ""
        workflow.set_current_details(f"**{self._status}**{waiting}")

    # Stopping, compensating, recording

    def _checkpoint(self) -> None:
        if self._cancel is not None:
            raise self._cancelled_by_support(self._cancel)

    @staticmethod
    def _cancelled_by_support(request: CancelRequest) -> OrderStopped:
        return OrderStopped(
            S.CANCELLED, "cancelled_by_support", request.requested_by, request.reason
        )

    def _failure(self, step: str, err: ActivityError) -> OrderStopped:
        cause = err.cause
        if isinstance(cause, CancelledError):  # only a workflow cancellation cancels our steps
            return cancelled_by_ops()
        if isinstance(cause, ApplicationError) and cause.type == "PaymentDeclined":
            return OrderStopped(S.FAILED, "payment_declined")
        workflow.logger.error("step %s failed: %s", step, cause)
        return OrderStopped(S.FAILED, f"{step}_failed")

    async def _stop(self, stop: OrderStopped) -> OrderResult:
        if self._cancel is not None and stop.status is S.FAILED and not self._shipping:
            # Accepted cancellations win over a failure that raced them: the caller was promised it.
            stop = self._cancelled_by_support(self._cancel)
        await self._saga.compensate()
        return await self._finish(stop.status, stop.reason, stop.actor, stop.note)

    async def _finish(
        self,
        status: OrderStatus,
        reason: str | None = None,
        actor: str = "workflow",
        note: str | None = None,
    ) -> OrderResult:
        await self._advance(status, reason, actor, note=note)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OrderResult(order_id=self._order.order_id, status=status, reason=reason)

    async def _advance(
        self,
        status: OrderStatus,
        reason: str | None = None,
        actor: str = "workflow",
        shipment: Shipment | None = None,
        note: str | None = None,
    ) -> None:
        """Move to `status` (checked against the table), then tell the UI and the read model.

        `reason` is the code (`status_reason` of a terminal status); the history row shows it
        with the person's `note`, e.g. "cancelled_by_support: customer changed their mind".
        """
        check_transition(self._status, status)
        self._status = status
        self._reason = reason if status in TERMINAL else None
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])
        self._wait_for(None)
        await self._record(status, f"{reason}: {note}" if note else reason, actor, shipment)

    async def _record(
        self,
        status: OrderStatus,
        reason: str | None,
        actor: str,
        shipment: Shipment | None = None,
    ) -> None:
        entry = HistoryEntry(status=status, at=workflow.now(), reason=reason, actor=actor)
        self._history.append(entry)
        self._seq += 1
        record = RecordStatusInput(
            order_id=self._order.order_id,
            seq=self._seq,
            entry=entry,
            shipment=shipment,
            status_reason=self._reason,
        )
        await steps.record_status(record)
