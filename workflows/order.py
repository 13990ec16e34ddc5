"""OrderWorkflow: one order from placement to completion, compensating every step when it stops."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, CancelledError

with workflow.unsafe.imports_passed_through():  # deterministic modules only: no database, no HTTP
    from workflows import steps
    from workflows.contracts import (
        LATE,
        ActivityName,
        Actor,
        CancelAccepted,
        CancelRequest,
        ChangeRequest,
        HoldRequest,
        OrderInput,
        OrderResult,
        OrderState,
        OrderStatus,
        ReleaseRequest,
        Shipment,
        StockChanged,
        SupportAnswer,
    )
    from workflows.progress import OrderProgress
    from workflows.return_contracts import ReturnSettled
    from workflows.rules import backorder_reason
    from workflows.saga import Saga
    from workflows.stopping import (
        OrderStopped,
        cancelled_by_ops,
        cancelled_by_support,
        failed_step,
    )
    from workflows.support_actions import SupportActions
    from workflows.timeline import Timeline

S = OrderStatus
A = ActivityName  # an undo is named by the activity that runs it
T = TypeVar("T")


@workflow.defn
class OrderWorkflow:
    """Reserve → authorize → (payment review) → pick → pack → ship → capture → delivered →
    completed; or, when it stops, the undo of every step so far, newest first.

    Each step runs under `_lock`, and so does each support action (change, hold, release): they
    are serialized, never interleaved, and a change lands between two steps, never inside one.
    """

    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        # Everything is set before any handler can run: a signal or Update may come first.
        self._progress = progress = OrderProgress(order=input)
        self._timeline = Timeline(progress)
        self._lock = asyncio.Lock()
        self._support = SupportActions(progress, self._timeline, self._lock)
        self._saga = Saga(lambda undo: steps.undo(undo, input.order_id))
        self._retry_now = False
        self._return_settled: ReturnSettled | None = None  # an advance exchange's return ended
        self._sla: asyncio.Task[None] | None = None  # watches the shipping SLA (order.delayed)

    @workflow.run
    async def run(self, input: OrderInput) -> OrderResult:
        if input.ship_sla_s is not None and workflow.patched("ship-sla"):
            self._sla = asyncio.create_task(self._watch_shipping_sla(input.ship_sla_s))
        try:  # each step names its undo, registered just before the step's activity starts
            if input.store_credit > 0:  # the customer's credit first: promised at placement
                await self._step("store_credit", self._hold_credit, undo=A.RELEASE_STORE_CREDIT)
            await self._reserve_stock()  # undo: release_stock
            await self._step("payment", self._authorize, then=S.RESERVED, undo=A.VOID_PAYMENT)
            await self._review_payment()
            await self._step("pick", self._pick, then=S.PICKED, undo=A.CANCEL_PICK)
            await self._step("pack", self._pack, then=S.PACKED, undo=A.CANCEL_PACK)
            shipment = await self._step("ship", self._ship, undo=A.VOID_SHIPMENT)
            # The goods left: only the money can go back.
            self._saga.keep_only(A.VOID_PAYMENT, A.RELEASE_STORE_CREDIT)
            await self._timeline.advance(S.SHIPPED, shipment=shipment)
            if input.awaits_return:  # an advance exchange: paid once its return ends
                return await self._await_delivery(shipment, settle=True)
            await self._step("payment_capture", self._capture)
            self._saga.forget()  # paid and shipped: nothing left to undo
            if workflow.patched("invoice-at-capture"):
                await self._invoice()  # retried until written: the money was taken
            return await self._await_delivery(shipment)
        except OrderStopped as stop:
            return await self._stop(stop)
        except (asyncio.CancelledError, ActivityError) as err:
            if isinstance(err, ActivityError) and not isinstance(err.cause, CancelledError):
                raise
            # Cancelled from the Temporal UI/CLI, whatever it was awaiting: still compensate.
            return await self._stop(cancelled_by_ops())

    # Support's Updates (carried out by workflows/support_actions.py), and ops' signal

    @workflow.update
    async def change(self, request: ChangeRequest) -> SupportAnswer:
        """Change the address and/or lines: stock and payment follow, or nothing changes."""
        return await self._support.change(request)

    @change.validator
    def _validate_change(self, request: ChangeRequest) -> None:
        self._support.check_change(request)

    @workflow.update
    async def hold(self, request: HoldRequest) -> SupportAnswer:
        """Stop the order before its next step until it is released (cancel still works)."""
        return await self._support.hold(request)

    @hold.validator
    def _validate_hold(self, request: HoldRequest) -> None:  # noqa: ARG002 (the SDK's shape)
        self._support.check_hold()

    @workflow.update
    async def release(self, request: ReleaseRequest) -> SupportAnswer:
        """Let a held order continue where it stopped."""
        return await self._support.release(request)

    @release.validator
    def _validate_release(self, request: ReleaseRequest) -> None:  # noqa: ARG002
        self._support.check_release()

    @workflow.update
    async def cancel(self, request: CancelRequest) -> CancelAccepted:
        """Accept a cancellation; the order reaches `cancelled` once its compensations ran."""
        return await self._support.cancel(request)

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:  # noqa: ARG002
        self._support.check_cancel()

    @workflow.signal(name="cancel")
    async def cancel_signal(self, request: CancelRequest) -> None:
        """Same as the update, for ops; a late one is recorded in the history and ignored."""
        await self._support.cancel_by_signal(request)

    @workflow.signal
    def stock_changed(self, change: StockChanged) -> None:
        """Stock grew for some SKUs: a backordered order tries to reserve again at once."""
        wanted = {line.sku for line in self._progress.order.lines}
        relevant = not change.skus or bool(wanted & set(change.skus))
        self._progress.stock_changed = self._progress.stock_changed or relevant

    @workflow.signal
    def return_settled(self, settled: ReturnSettled) -> None:
        """An advance exchange's return ended: `covered` of the total is paid by what came back."""
        self._return_settled = settled

    @workflow.query
    def status(self) -> OrderState:
        """The live status, its reason, the transitions so far and what the order waits for."""
        progress = self._progress
        return OrderState(
            status=progress.status,
            reason=progress.reason,
            history=list(self._timeline.history),
            waiting_for=progress.waiting(),
            resumes_to=progress.resume_to,
        )

    # The steps

    async def _reserve_stock(self) -> None:
        deadline = workflow.now() + timedelta(seconds=self._progress.order.backorder_window_s)
        while True:
            missing = await self._step("reserve", self._try_reserve, undo=A.RELEASE_STOCK)
            if not missing:
                return
            if self._retry_now:
                self._retry_now = False
                continue
            await self._wait_for_stock(missing, deadline)

    async def _try_reserve(self) -> list[str]:
        progress = self._progress
        progress.stock_changed = False  # a wake-up during the attempt below must not be lost
        missing = await steps.reserve(progress.order)
        if not missing:
            progress.reserved = True
        elif progress.status is not S.BACKORDERED:
            await self._timeline.advance(S.BACKORDERED, backorder_reason(missing))
            # Stock that arrived before the API could see this order waiting sent no wake-up;
            # one more attempt now closes that gap.
            self._retry_now = workflow.patched("reserve-again-once-backordered")
        return missing

    async def _wait_for_stock(self, missing: list[str], deadline: datetime) -> None:
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            raise OrderStopped(S.CANCELLED, "out_of_stock")
        progress = self._progress
        recheck = min(remaining, timedelta(seconds=progress.order.backorder_recheck_s))
        self._timeline.wait_for(
            f"stock of {', '.join(missing)} until {deadline:%Y-%m-%d %H:%M} UTC"
        )
        try:
            await workflow.wait_condition(
                lambda: progress.stock_changed or progress.cancel is not None, timeout=recheck
            )
        except TimeoutError:
            pass  # recheck anyway: a missed wake-up costs at most `backorder_recheck`
        except asyncio.CancelledError:  # not `finally`: a worker evicting the run closes this
            self._timeline.wait_for(None)  # coroutine outside the workflow's event loop
            raise
        self._timeline.wait_for(None)

    async def _hold_credit(self) -> None:
        await steps.hold_store_credit(self._progress.order)

    async def _authorize(self) -> None:
        if steps.card_amount(self._progress.order) > 0:  # else store credit pays it all
            await steps.authorize(self._progress.order)
        self._progress.authorized = True

    async def _review_payment(self) -> None:
        """Above the configured total, a person reviews the payment before the warehouse starts.

        Like a step: a hold already on (or a cancel) is dealt with first, so it is never skipped."""
        order = self._progress.order
        limit = order.payment_review_above
        if limit is not None and order.total > limit:
            await self._step("payment_review", lambda: self._support.hold_for_review(limit))

    async def _pick(self) -> None:
        self._progress.picking = True  # from here on the lines are the warehouse's
        await steps.pick(self._progress.order)

    async def _pack(self) -> None:
        await steps.pack(self._progress.order)

    async def _ship(self) -> Shipment:
        self._progress.shipping = True  # from here on cancellation is refused: it is leaving
        return await steps.ship(self._progress.order)

    async def _capture(self) -> None:
        if steps.card_amount(self._progress.order) > 0:
            await steps.capture(self._progress.order)

    async def _invoice(self) -> None:
        await steps.issue_invoice(self._progress.order)  # also redeems the held credit

    async def _await_delivery(self, shipment: Shipment, settle: bool = False) -> OrderResult:
        self._timeline.wait_for(f"delivery of {shipment.tracking_number} by {shipment.carrier}")
        delivered = await steps.await_delivery(self._progress.order, shipment)
        if delivered:
            await self._timeline.advance(S.DELIVERED, shipment=steps.delivered(shipment))
        if settle:
            await self._settle_with_return()
        return await self._finish(S.COMPLETED, None if delivered else "delivery_unconfirmed")

    async def _settle_with_return(self) -> None:
        """Wait for the exchange's return to end, then capture what its goods do not cover (the
        rest of the authorization is released) and invoice: the covered part as store credit."""
        self._timeline.wait_for("the return this exchange replaces: its arrival pays for it")
        await workflow.wait_condition(lambda: self._return_settled is not None)
        self._timeline.wait_for(None)
        settled = self._return_settled
        assert settled is not None
        order = self._progress.order
        rest = steps.card_amount(order) - settled.covered
        if rest > 0:
            await steps.capture(order, rest)
        else:
            await steps.undo(A.VOID_PAYMENT, order.order_id)
        self._saga.forget()
        await self._invoice()

    async def _watch_shipping_sla(self, sla_s: float) -> None:
        """A durable timer beside the steps: not shipped (nor ended) `sla_s` after placement, the
        order is late: the `Late` search attribute for ops, `order.delayed` for the world."""
        progress = self._progress
        placed = progress.order.placed_at or workflow.now()
        due = placed + timedelta(seconds=sla_s)
        remaining = (due - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(progress.left_or_ended, timeout=remaining)
                return
            except TimeoutError:
                pass
        if progress.left_or_ended():
            return
        workflow.upsert_search_attributes([LATE.value_set(True)])
        await steps.record_delay(progress.order, due)

    async def _step(
        self,
        name: str,
        step: Callable[[], Awaitable[T]],
        then: OrderStatus | None = None,
        undo: ActivityName | None = None,
    ) -> T:
        """Run one step (and move to `then`) under the lock, once the order is not on hold.

        A cancellation stops the order before the step; a failed activity stops it after. The
        step's `undo` is registered before it starts: a step that fails half-way is undone too."""
        progress = self._progress
        while True:
            if progress.hold is not None:
                await workflow.wait_condition(
                    lambda: progress.hold is None or progress.cancel is not None
                )
            self._checkpoint()
            async with self._lock:
                if progress.hold is not None and progress.cancel is None:
                    continue  # put on hold while this step waited for the lock
                self._checkpoint()
                if undo is not None:
                    self._saga.register(undo)
                try:
                    result = await step()
                except ActivityError as err:
                    raise failed_step(name, err) from err
                if then is not None:
                    await self._timeline.advance(then)
                return result

    # Stopping, compensating, finishing

    def _checkpoint(self) -> None:
        if self._progress.cancel is not None:
            raise cancelled_by_support(self._progress.cancel)

    async def _stop(self, stop: OrderStopped) -> OrderResult:
        progress = self._progress
        progress.stopping = True  # support actions are refused from here on
        if progress.cancel is not None and stop.status is S.FAILED and not progress.shipping:
            # Accepted cancellations win over a failure that raced them: the caller was promised it.
            stop = cancelled_by_support(progress.cancel)
        await self._saga.compensate()
        return await self._finish(stop.status, stop.reason, stop.actor, stop.note)

    async def _finish(
        self,
        status: OrderStatus,
        reason: str | None = None,
        actor: str = Actor.WORKFLOW,
        note: str | None = None,
    ) -> OrderResult:
        await self._timeline.advance(status, reason, actor, note=note)
        if self._sla is not None:
            await self._sla  # ended with the status above, or still recording the delay
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OrderResult(order_id=self._progress.order.order_id, status=status, reason=reason)
