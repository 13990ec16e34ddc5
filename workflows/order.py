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
        ON_HOLD,
        ORDER_STATUS,
        Address,
        CancelAccepted,
        CancelRequest,
        HistoryEntry,
        HoldReason,
        HoldRequest,
        OrderInput,
        OrderLine,
        OrderResult,
        OrderState,
        OrderStatus,
        RecordStatusInput,
        Shipment,
        StockChanged,
        SupportAction,
    )
    from workflows.rules import (
        TERMINAL,
        cancel_refusal,
        check_transition,
        format_money,
    )
    from workflows.saga import Saga
    from workflows.support import SupportActions

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
class OrderWorkflow(SupportActions):
    """Reserve → authorize → pick → pack → ship → capture → delivered → completed, or compensate.

    Each step runs under `_lock`, and so does each support action (change, hold, release): they
    are serialized, never interleaved, and a change lands between two steps, never inside one.
    """

    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._order = input
        self._status = S.PENDING
        self._reason: str | None = None
        self._history: list[HistoryEntry] = []
        self._seq = 0  # seq 0 is the `pending` row the API wrote
        self._cancel: CancelRequest | None = None
        self._hold: HoldRequest | None = None
        self._resume_to: OrderStatus | None = None  # where a release returns the order to
        self._lock = asyncio.Lock()
        self._reserved = self._authorized = self._picking = self._shipping = False
        self._stopping = self._retry_now = False
        self._adjustments = 0  # authorization adjustments tried: their idempotency keys
        self._stock_changed = False
        self._waiting_for: str | None = None
        self._saga = Saga()

    @workflow.run
    async def run(self, input: OrderInput) -> OrderResult:  # noqa: ARG002 (kept by __init__)
        try:
            await self._reserve_stock()
            await self._step("payment", self._authorize, then=S.RESERVED)
            await self._review_payment()
            await self._step("pick", self._pick, then=S.PICKED)
            await self._step("pack", lambda: steps.pack(self._order, self._saga), then=S.PACKED)
            shipment = await self._step("ship", self._ship)
            await self._advance(S.SHIPPED, shipment=shipment)
            await self._step("payment_capture", lambda: steps.capture(self._order, self._saga))
            self._saga.forget()  # paid and shipped: nothing left to undo
            return await self._await_delivery(shipment)
        except OrderStopped as stop:
            return await self._stop(stop)
        except (asyncio.CancelledError, ActivityError) as err:
            if isinstance(err, ActivityError) and not isinstance(err.cause, CancelledError):
                raise
            # Cancelled from the Temporal UI/CLI, whatever it was awaiting: still compensate.
            return await self._stop(cancelled_by_ops())

    # Cancellation, as support and ops ask for it (change, hold, release: workflows/support.py)

    @workflow.update
    async def cancel(self, request: CancelRequest) -> CancelAccepted:
        """Accept a cancellation; the order reaches `cancelled` once its compensations ran."""
        self._cancel = self._cancel or request
        if workflow.patched("support-audit"):
            await self._audit(
                SupportAction.CANCEL, request, "accepted", "compensating, then cancelled"
            )
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
            waiting_for=self._waiting_for or self._held_for(),
            resumes_to=self._resume_to,
        )

    # The steps

    async def _reserve_stock(self) -> None:
        window = timedelta(seconds=self._order.backorder_window_s)
        deadline = workflow.now() + window
        while True:
            missing = await self._step("reserve", self._try_reserve)
            if not missing:
                return
            if self._retry_now:
                self._retry_now = False
                continue
            await self._wait_for_stock(missing, deadline)

    async def _try_reserve(self) -> list[str]:
        self._stock_changed = False  # a wake-up during the attempt below must not be lost
        missing = await steps.reserve(self._order, self._saga)
        if not missing:
            self._reserved = True
        elif self._status is not S.BACKORDERED:
            await self._advance(S.BACKORDERED, f"waiting for {', '.join(missing)}")
            # Stock that arrived before the API could see this order waiting sent no wake-up;
            # one more attempt now closes that gap.
            self._retry_now = workflow.patched("reserve-again-once-backordered")
        return missing

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

    async def _authorize(self) -> None:
        await steps.authorize(self._order, self._saga)
        self._authorized = True

    async def _review_payment(self) -> None:
        """Above the configured total, a person reviews the payment before the warehouse starts.

        Like a step: a hold already on (or a cancel) is dealt with first, so it is never skipped."""
        limit = self._order.payment_review_above
        if limit is not None and self._order.total > limit:
            await self._step("payment_review", lambda: self._hold_for_review(limit))

    async def _hold_for_review(self, limit: int) -> None:
        currency = self._order.currency
        above = (
            f"{format_money(self._order.total, currency)} is above {format_money(limit, currency)}"
        )
        review = HoldRequest(
            reason_code=HoldReason.PAYMENT_REVIEW, requested_by="workflow", note=f"total {above}"
        )
        await self._put_on_hold(review)

    async def _pick(self) -> None:
        self._picking = True  # from here on the lines are the warehouse's
        await steps.pick(self._order, self._saga)

    async def _ship(self) -> Shipment:
        self._shipping = True  # from here on cancellation is refused: the parcel is leaving
        shipment = await steps.ship(self._order, self._saga)
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

    async def _step(
        self, name: str, step: Callable[[], Awaitable[T]], then: OrderStatus | None = None
    ) -> T:
        """Run one step (and move to `then`) under the lock, once the order is not on hold.

        A cancellation stops the order before the step; a failed activity stops it after."""
        while True:
            if self._hold is not None:
                await workflow.wait_condition(
                    lambda: self._hold is None or self._cancel is not None
                )
            self._checkpoint()
            async with self._lock:
                if self._hold is not None and self._cancel is None:
                    continue  # put on hold while this step waited for the lock
                self._checkpoint()
                try:
                    result = await step()
                except ActivityError as err:
                    raise self._failure(name, err) from err
                if then is not None:
                    await self._advance(then)
                return result

    def _wait_for(self, what: str | None) -> None:
        """Say what the order waits for: in the `status` query and on the UI's workflow page."""
        self._waiting_for = what
        self._show()

    def _show(self) -> None:
        waiting = self._waiting_for or self._held_for()
        details = f"**{self._status}**" + (f", waiting for {waiting}" if waiting else "")
        workflow.set_current_details(details)

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
        self._stopping = True  # support actions are refused from here on
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

        `reason` is the code (`status_reason` of a terminal status or of a hold); the history row
        shows it with the person's `note`, e.g. "cancelled_by_support: customer changed their mind".
        """
        check_transition(self._status, status)
        held = (
            [ON_HOLD.value_set(status is S.ON_HOLD)] if S.ON_HOLD in (self._status, status) else []
        )
        if self._status is S.ON_HOLD:
            self._hold = self._resume_to = None
        self._status = status
        self._reason = reason if status in TERMINAL or status is S.ON_HOLD else None
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value), *held])
        self._wait_for(None)
        await self._record(status, f"{reason}: {note}" if note else reason, actor, shipment)

    async def _record(
        self,
        status: OrderStatus,
        reason: str | None,
        actor: str,
        shipment: Shipment | None = None,
        lines: list[OrderLine] | None = None,
        total: int | None = None,
        address: Address | None = None,
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
            lines=lines,
            total=total,
            shipping_address=address,
        )
        await steps.record_status(record)
