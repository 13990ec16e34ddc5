"""The support actions as the order's workflow carries them out: change, hold, release, cancel.

OrderWorkflow's Update handlers (workflows/order.py) hand each request here. A refusal is decided
twice: by the Update's validator (so a refusal never reaches the workflow's history), and again
under the workflow's lock (the order may have moved since). An accepted action then runs under
that lock, between two steps, never inside one, and two actions never interleave. Either
outcome is written to the audit trail.
"""

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import changes, steps
from workflows.contracts import (
    Actor,
    AuditOutcome,
    CancelAccepted,
    CancelRequest,
    ChangeRequest,
    HoldReason,
    HoldRequest,
    OrderStatus,
    RecordAuditInput,
    ReleaseRequest,
    SupportAction,
    SupportAnswer,
    SupportRequest,
    asked_json,
)
from workflows.progress import OrderProgress
from workflows.rules import (
    cancel_refused,
    change_refused,
    format_money,
    hold_refused,
    merge_lines,
    release_refused,
)
from workflows.timeline import Timeline

S = OrderStatus


class SupportActions:
    """Support's requests on one order, applied to its progress and recorded on its timeline."""

    def __init__(self, progress: OrderProgress, timeline: Timeline, lock: asyncio.Lock) -> None:
        self._progress, self._timeline, self._lock = progress, timeline, lock

    # Validators: refuse at once, before the request is written to the workflow's history.

    def check_change(self, request: ChangeRequest) -> None:
        _refuse(change_refused(self._progress, request))

    def check_hold(self) -> None:
        _refuse(hold_refused(self._progress))

    def check_release(self) -> None:
        _refuse(release_refused(self._progress))

    def check_cancel(self) -> None:
        if (refusal := cancel_refused(self._progress)) is not None:
            raise ApplicationError(refusal, type="CancelRefused")

    # Handlers

    async def change(self, request: ChangeRequest) -> SupportAnswer:
        """Change the address and/or lines: stock and payment follow, or nothing changes."""
        return await self._act(
            SupportAction.CHANGE,
            request,
            lambda: change_refused(self._progress, request),
            lambda: self._apply(request),
        )

    async def hold(self, request: HoldRequest) -> SupportAnswer:
        """Stop the order before its next step until it is released (cancel still works)."""
        return await self._act(
            SupportAction.HOLD,
            request,
            lambda: hold_refused(self._progress),
            lambda: self.put_on_hold(request),
        )

    async def release(self, request: ReleaseRequest) -> SupportAnswer:
        """Let a held order continue where it stopped."""
        return await self._act(
            SupportAction.RELEASE,
            request,
            lambda: release_refused(self._progress),
            lambda: self._release(request),
        )

    async def cancel(self, request: CancelRequest) -> CancelAccepted:
        """Accept a cancellation: the workflow carries it out before its next step.

        Not under the lock: a cancel must not wait for a step to end to be accepted."""
        progress = self._progress
        progress.cancel = progress.cancel or request
        if workflow.patched("support-audit"):
            await self._audit(
                SupportAction.CANCEL,
                request,
                AuditOutcome.ACCEPTED,
                "compensating, then cancelled",
            )
        return CancelAccepted(status=progress.status)

    async def cancel_by_signal(self, request: CancelRequest) -> None:
        """Ops' cancel signal: a late one is recorded in the history and ignored."""
        progress = self._progress
        if (refusal := cancel_refused(progress)) is not None:
            workflow.logger.warning("cancel signal ignored: %s", refusal)
            await self._timeline.record(
                progress.status, f"cancel refused: {refusal}", request.requested_by
            )
            return
        progress.cancel = progress.cancel or request

    async def put_on_hold(self, request: HoldRequest) -> str:
        """Hold the order (support's hold, or the workflow's own payment review)."""
        progress = self._progress
        progress.hold, progress.resume_to = request, progress.status
        await self._timeline.advance(
            S.ON_HOLD, request.reason_code.value, request.requested_by, note=request.note
        )
        return f"on hold; a release returns it to {progress.resume_to}"

    async def hold_for_review(self, limit: int) -> str:
        """The workflow's own hold: a total above `limit` waits for a person to review it."""
        order = self._progress.order  # as it is now: a hold before the review may have changed it
        total, most = format_money(order.total, order.currency), format_money(limit, order.currency)
        review = HoldRequest(
            reason_code=HoldReason.PAYMENT_REVIEW,
            requested_by=Actor.WORKFLOW,
            note=f"total {total} is above {most}",
        )
        return await self.put_on_hold(review)

    async def _act(
        self,
        action: SupportAction,
        request: ChangeRequest | HoldRequest | ReleaseRequest,
        refusal: Callable[[], str | None],
        effect: Callable[[], Awaitable[str]],
    ) -> SupportAnswer:
        """Check again under the lock, take effect, and audit the outcome either way."""
        async with self._lock:
            try:
                _refuse(refusal())
                detail = await effect()
            except ApplicationError as refused:
                await self._audit(action, request, AuditOutcome.REFUSED, refused.message)
                raise
            await self._audit(action, request, AuditOutcome.ACCEPTED, detail)
        return SupportAnswer(status=self._progress.status, total=self._progress.order.total)

    async def _release(self, request: ReleaseRequest) -> str:
        progress = self._progress
        back_to = progress.where
        progress.hold = None
        # Stock may have come while it was held (a held order gets no wake-up): try at once.
        progress.stock_changed = progress.stock_changed or back_to is S.BACKORDERED
        await self._timeline.advance(back_to, "released", request.requested_by, note=request.note)
        return f"released; back to {back_to}"

    async def _apply(self, request: ChangeRequest) -> str:
        """Stock and payment first (all or nothing), then the order itself."""
        progress = self._progress
        before = progress.order
        lines = merge_lines(before.lines, request.lines) if request.lines else before.lines
        after = changes.changed(before, lines, request.shipping_address)
        if lines != before.lines and progress.reserved:
            progress.adjustments += 1
            key = f"{before.order_id}:adjust:{progress.adjustments}"
            await changes.change_stock_and_payment(before, after, progress.authorized, key)
        progress.order = after
        if lines != before.lines:
            progress.stock_changed = True  # a backordered order tries its new lines at once
        changes.publish(after)
        what = changes.describe_change(before, after)
        note = f"{what}: {request.reason}" if request.reason else what
        await self._timeline.record(
            progress.status,
            f"changed: {note}",
            request.requested_by,
            lines=after.lines if lines != before.lines else None,
            total=after.total,
            address=request.shipping_address,
        )
        return what

    async def _audit(
        self, action: SupportAction, request: SupportRequest, outcome: str, detail: str | None
    ) -> None:
        """The audit row of one support action the workflow decided (idempotent by request)."""
        record = RecordAuditInput(
            order_id=self._progress.order.order_id,
            request_id=request.request_id or f"{action}:{workflow.uuid4()}",
            action=action,
            requested_by=request.requested_by,
            request_json=asked_json(request),
            outcome=outcome,
            detail=detail,
            at=workflow.now(),
            label=request.label,
        )
        await steps.record_audit(record)


def _refuse(refusal: str | None) -> None:
    """Refuse an update: its caller gets the reason (the API answers 409 with it)."""
    if refusal is not None:
        raise ApplicationError(refusal, type="Refused", non_retryable=True)
