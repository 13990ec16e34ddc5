"""ReturnWorkflow: one return (`return-{id}`), from the request to the money or the exchange."""

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():  # deterministic modules only
    from workflows.contracts import RETURN_STATUS, ActivityName, order_workflow_id
    from workflows.return_contracts import (
        RETURN_TERMINAL,
        ReceiveRequest,
        ReceiveUnitsInput,
        ReceiveUnitsResult,
        RecordReturnStatusInput,
        ResolveReturnInput,
        ResolveReturnResult,
        ReturnAnswer,
        ReturnDecision,
        ReturnHistoryEntry,
        ReturnInput,
        ReturnLabel,
        ReturnRef,
        ReturnResult,
        ReturnSettled,
        ReturnStatus,
        SettleReturnInput,
    )
    from workflows.return_rules import ReturnProgress, refuse_receipt
    from workflows.steps import OUTSIDE, OUTSIDE_CALL, OWN_DB, SHORT

A = ActivityName
S = ReturnStatus
WORKFLOW = "workflow"


@workflow.defn
class ReturnWorkflow:
    """Requested → approved (at once, or by support; or declined) → awaiting_receipt (a label)
    → received (the warehouse scanned everything) → completed (refund, store credit or exchange
    done); `expired` when nothing arrived in time (the label voided), `cancelled` before receipt.

    Support's and the warehouse's Updates run under `_lock`, as the order workflow's do; the
    run waits for what they change."""

    @workflow.init
    def __init__(self, input: ReturnInput) -> None:
        self._input = input
        self._progress = ReturnProgress.of(input)
        self._lock = asyncio.Lock()
        self._seq = 0  # history row 0 is the API's `requested`
        self._cancel: ReturnDecision | None = None
        self._replacement: str | None = None

    @workflow.run
    async def run(self, input: ReturnInput) -> ReturnResult:
        if input.auto_approve:
            async with self._lock:  # a cancel may have come first
                if self._progress.status is S.REQUESTED:
                    await self._move(S.APPROVED, "approved automatically")
        else:
            self._details("support's decision: approve or decline")
            await workflow.wait_condition(lambda: self._progress.status is not S.REQUESTED)
        if self._progress.status is not S.APPROVED:  # declined or cancelled by an Update
            return await self._finish()
        deadline = await self._issue_label()
        if input.advance:
            await self._place_replacement()
        arrived = await self._await_parcel(deadline)
        if self._cancel is not None:
            await self._void_label()
            await self._move(S.CANCELLED, self._cancel.reason, self._cancel.requested_by)
            return await self._finish()
        if not arrived:
            await self._void_label()
        return await self._resolve(arrived)

    # Support's, the customer's and the warehouse's Updates

    @workflow.update
    async def approve(self, request: ReturnDecision) -> ReturnAnswer:
        """Support approves: a label is issued and the return waits for the parcel."""
        async with self._lock:
            self._progress.check_decision()  # again: another decision may have come first
            await self._move(S.APPROVED, request.reason, request.requested_by)
        return ReturnAnswer(status=self._progress.status)

    @approve.validator
    def _validate_approve(self, request: ReturnDecision) -> None:  # noqa: ARG002
        self._progress.check_decision()

    @workflow.update
    async def decline(self, request: ReturnDecision) -> ReturnAnswer:
        """Support declines, with the reason the customer is told."""
        async with self._lock:
            self._progress.check_decision()
            await self._move(S.DECLINED, request.reason, request.requested_by)
        return ReturnAnswer(status=self._progress.status)

    @decline.validator
    def _validate_decline(self, request: ReturnDecision) -> None:
        self._progress.check_decision()
        if not (request.reason or "").strip():
            raise ApplicationError("give the reason the return is declined", type="Refused")

    @workflow.update
    async def cancel(self, request: ReturnDecision) -> ReturnAnswer:
        """The customer or support cancels before anything arrived; the label is voided."""
        async with self._lock:
            self._progress.check_cancel(self._cancel is not None, self._input.advance)
            if self._progress.status is S.REQUESTED:
                await self._move(S.CANCELLED, request.reason, request.requested_by)
                return ReturnAnswer(status=self._progress.status)
            self._cancel = request  # the run voids the label, then moves to cancelled
            self._progress.closed = True
        await workflow.wait_condition(lambda: self._progress.status in RETURN_TERMINAL)
        return ReturnAnswer(status=self._progress.status)

    @cancel.validator
    def _validate_cancel(self, request: ReturnDecision) -> None:  # noqa: ARG002
        self._progress.check_cancel(self._cancel is not None, self._input.advance)

    @workflow.update
    async def receive(self, request: ReceiveRequest) -> ReturnAnswer:
        """The warehouse scanned (part of) the parcel: units back on the shelf or written off."""
        async with self._lock:
            refuse_receipt(self._progress, request.lines)  # again: an earlier one may have won
            receipt = ReceiveUnitsInput(
                return_id=self._input.return_id,
                request_id=request.request_id,
                received_by=request.requested_by,
                lines=request.lines,
            )
            await workflow.execute_activity(
                A.RECEIVE_RETURN_UNITS,
                receipt,
                result_type=ReceiveUnitsResult,
                start_to_close_timeout=SHORT,
                retry_policy=OWN_DB,
                summary=f"Receive {_describe(request)}",
            )
            self._progress.add(request.lines)
        await workflow.wait_condition(
            lambda: (
                not self._progress.all_received() or self._progress.status is not S.AWAITING_RECEIPT
            )
        )
        return ReturnAnswer(status=self._progress.status)

    @receive.validator
    def _validate_receive(self, request: ReceiveRequest) -> None:
        refuse_receipt(self._progress, request.lines)

    # The steps

    async def _issue_label(self) -> datetime:
        label = await workflow.execute_activity(
            A.CREATE_RETURN_LABEL,
            ReturnRef(return_id=self._input.return_id),
            result_type=ReturnLabel,
            start_to_close_timeout=OUTSIDE_CALL,
            retry_policy=OUTSIDE,
            summary="Issue the return label",
        )
        deadline = workflow.now() + timedelta(seconds=self._input.receive_window_s)
        self._progress.tracking_number = label.tracking_number
        await self._move(S.AWAITING_RECEIPT, label=label, receive_by=deadline)
        return deadline

    async def _await_parcel(self, deadline: datetime) -> bool:
        """True once everything expected arrived; False at the deadline (or on a cancel)."""
        progress = self._progress
        self._details(
            f"waiting for the parcel {progress.tracking_number} until {deadline:%Y-%m-%d %H:%M} UTC"
        )
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: progress.all_received() or self._cancel is not None,
                timeout=max(deadline - workflow.now(), timedelta(seconds=1)),
            )
        async with self._lock:  # a receipt being booked at the deadline still counts
            progress.closed = True  # no receipt from here on
            self._details(None)
            return progress.all_received()

    async def _place_replacement(self) -> None:
        placed = await self._resolve_activity(advance=True, summary="Ship the exchange now")
        self._replacement = placed.exchange_order_id

    async def _resolve(self, arrived: bool) -> ReturnResult:
        progress = self._progress
        if arrived:
            await self._move(S.RECEIVED)
        if self._input.advance:
            await self._settle_replacement()
            status = S.COMPLETED if progress.any_received() else S.EXPIRED
            return await self._finish_with(status, None if arrived else "parcel not received")
        if not progress.any_received():
            await self._move(S.EXPIRED, "nothing arrived within the receive window")
            return await self._finish()
        done = await self._resolve_activity(advance=False, summary="Refund, credit or exchange")
        reason = done.note if arrived else _partly(done.note)
        return await self._finish_with(S.COMPLETED, reason)

    async def _resolve_activity(self, advance: bool, summary: str) -> ResolveReturnResult:
        result: ResolveReturnResult = await workflow.execute_activity(
            A.RESOLVE_RETURN,
            ResolveReturnInput(return_id=self._input.return_id, advance=advance),
            result_type=ResolveReturnResult,
            start_to_close_timeout=SHORT * 3,
            retry_policy=OWN_DB,
            summary=summary,
        )
        return result

    async def _settle_replacement(self) -> None:
        """Tell the advance exchange's order how much the returned goods pay of it."""
        settled = await workflow.execute_activity(
            A.SETTLE_RETURN,
            SettleReturnInput(return_id=self._input.return_id),
            result_type=ReturnSettled,
            start_to_close_timeout=SHORT * 3,
            retry_policy=OWN_DB,
            summary="Settle the exchange's payment",
        )
        if self._replacement is None:
            return
        order = workflow.get_external_workflow_handle(order_workflow_id(self._replacement))
        try:
            await order.signal("return_settled", settled)
        except FailureError as err:  # the replacement ended (cancelled): nothing to settle
            workflow.logger.warning("return %s: %s", self._input.return_id, err)

    async def _void_label(self) -> None:
        await workflow.execute_activity(
            A.VOID_RETURN_LABEL,
            ReturnRef(return_id=self._input.return_id),
            start_to_close_timeout=OUTSIDE_CALL,
            retry_policy=OUTSIDE,
            summary=f"Void the label {self._progress.tracking_number}",
        )

    # Moving, recording, finishing

    async def _move(
        self,
        status: ReturnStatus,
        reason: str | None = None,
        actor: str = WORKFLOW,
        label: ReturnLabel | None = None,
        receive_by: datetime | None = None,
    ) -> None:
        self._progress.move(status)
        workflow.upsert_search_attributes([RETURN_STATUS.value_set(status.value)])
        self._seq += 1
        entry = ReturnHistoryEntry(status=status, at=workflow.now(), reason=reason, actor=actor)
        record = RecordReturnStatusInput(
            return_id=self._input.return_id,
            seq=self._seq,
            entry=entry,
            label=label,
            receive_by=receive_by,
        )
        await workflow.execute_local_activity(
            A.RECORD_RETURN_STATUS,
            record,
            start_to_close_timeout=SHORT,
            retry_policy=OWN_DB,
            summary=f"Record {status}",
        )

    async def _finish_with(self, status: ReturnStatus, reason: str | None) -> ReturnResult:
        await self._move(status, reason)
        return await self._finish()

    async def _finish(self) -> ReturnResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        status = self._progress.status
        return ReturnResult(return_id=self._input.return_id, status=status)

    def _details(self, text: str | None) -> None:
        workflow.set_current_details(text or "")


def _describe(request: ReceiveRequest) -> str:
    return ", ".join(f"{line.quantity} × {line.sku} {line.condition}" for line in request.lines)


def _partly(note: str | None) -> str:
    partial = "partly received: the rest did not arrive within the receive window"
    return f"{partial}; {note}" if note else partial
