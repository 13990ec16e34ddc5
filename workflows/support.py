"""The support actions of an order: change, hold and release (Temporal Updates).

A mixin of OrderWorkflow, which owns the order's state and story (workflows/order.py). Each
action is checked by its validator (a refusal never reaches the workflow's history), then run
under the workflow's lock, so it lands between two steps, never inside one, and two actions never
interleave. The outcome is written to the audit trail either way.
"""

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import changes, steps
from workflows.contracts import (
    Address,
    CancelRequest,
    ChangeRequest,
    HoldRequest,
    OrderInput,
    OrderLine,
    OrderStatus,
    ReleaseRequest,
    Shipment,
    SupportAction,
    SupportAnswer,
)
from workflows.rules import TERMINAL, InvalidChange, change_refusal, hold_refusal, merge_lines

S = OrderStatus


class SupportActions:
    """Changes, holds and releases; the state below is OrderWorkflow's, set in its __init__."""

    _order: OrderInput
    _status: OrderStatus
    _cancel: CancelRequest | None
    _hold: HoldRequest | None
    _resume_to: OrderStatus | None  # while on hold: where a release returns the order to
    _lock: asyncio.Lock  # held by each step and each support action
    _reserved: bool
    _authorized: bool
    _picking: bool
    _shipping: bool
    _stopping: bool
    _stock_changed: bool
    _adjustments: int  # authorization adjustments tried: their idempotency keys

    @workflow.update
    async def change(self, request: ChangeRequest) -> SupportAnswer:
        """Change the address and/or lines: stock and payment follow, or nothing changes."""
        return await self._support(
            SupportAction.CHANGE,
            request,
            lambda: self._change_refusal(request),
            lambda: self._apply_change(request),
        )

    @change.validator
    def _validate_change(self, request: ChangeRequest) -> None:
        _refuse(self._change_refusal(request))

    @workflow.update
    async def hold(self, request: HoldRequest) -> SupportAnswer:
        """Stop the order before its next step until it is released (cancel still works)."""
        return await self._support(
            SupportAction.HOLD, request, self._hold_refusal, lambda: self._put_on_hold(request)
        )

    @hold.validator
    def _validate_hold(self, request: HoldRequest) -> None:  # noqa: ARG002 (the SDK's shape)
        _refuse(self._hold_refusal())

    @workflow.update
    async def release(self, request: ReleaseRequest) -> SupportAnswer:
        """Let a held order continue where it stopped."""
        return await self._support(
            SupportAction.RELEASE, request, self._release_refusal, lambda: self._release(request)
        )

    @release.validator
    def _validate_release(self, request: ReleaseRequest) -> None:  # noqa: ARG002
        _refuse(self._release_refusal())

    async def _support(
        self,
        action: SupportAction,
        request: ChangeRequest | HoldRequest | ReleaseRequest,
        refusal: Callable[[], str | None],
        effect: Callable[[], Awaitable[str]],
    ) -> SupportAnswer:
        """Check again under the lock (the order may have moved since the validator), take
        effect, and audit the outcome either way."""
        async with self._lock:
            try:
                _refuse(refusal())
                detail = await effect()
            except ApplicationError as refused:
                await self._audit(action, request, "refused", refused.message)
                raise
            await self._audit(action, request, "accepted", detail)
        return SupportAnswer(status=self._status, total=self._order.total)

    @property
    def _where(self) -> OrderStatus:
        """Where the order is in its story: the status it resumes to while on hold."""
        return self._resume_to if self._resume_to is not None else self._status

    def _closing(self) -> str | None:
        if self._status in TERMINAL:
            return f"order is already {self._status}"
        if self._cancel is not None or self._stopping:
            return "order is being cancelled" if self._cancel else "order is stopping"
        return None

    def _change_refusal(self, request: ChangeRequest) -> str | None:
        lines, address = request.lines is not None, request.shipping_address is not None
        refusal = self._closing() or change_refusal(
            self._where, self._picking, self._shipping, lines, address
        )
        if refusal is None and request.lines is not None:
            try:
                merge_lines(self._order.lines, request.lines)
            except InvalidChange as invalid:
                return str(invalid)
        return refusal

    def _hold_refusal(self) -> str | None:
        if (held := self._hold) is not None:
            return f"order is already on hold ({held.reason_code} by {held.requested_by})"
        return self._closing() or hold_refusal(self._where, self._shipping)

    def _release_refusal(self) -> str | None:
        return self._closing() or (None if self._hold is not None else "order is not on hold")

    async def _put_on_hold(self, request: HoldRequest) -> str:
        self._hold, self._resume_to = request, self._status
        await self._advance(
            S.ON_HOLD, request.reason_code.value, request.requested_by, note=request.note
        )
        return f"on hold; a release returns it to {self._resume_to}"

    async def _release(self, request: ReleaseRequest) -> str:
        back_to = self._where
        self._hold = None
        # Stock may have come while it was held (a held order gets no wake-up): try at once.
        self._stock_changed = self._stock_changed or back_to is S.BACKORDERED
        await self._advance(back_to, "released", request.requested_by, note=request.note)
        return f"released; back to {back_to}"

    async def _apply_change(self, request: ChangeRequest) -> str:
        """Stock and payment first (all or nothing), then the order itself."""
        before = self._order
        lines = merge_lines(before.lines, request.lines) if request.lines else before.lines
        after = changes.changed(before, lines, request.shipping_address)
        if lines != before.lines and self._reserved:
            self._adjustments += 1
            key = f"{before.order_id}:adjust:{self._adjustments}"
            await changes.change_stock_and_payment(before, after, self._authorized, key)
        self._order = after
        if lines != before.lines:
            self._stock_changed = True  # a backordered order tries its new lines at once
        changes.publish(after)
        what = changes.describe(before, after)
        note = f"{what}: {request.reason}" if request.reason else what
        await self._record(
            self._status,
            f"changed: {note}",
            request.requested_by,
            lines=after.lines if lines != before.lines else None,
            total=after.total,
            address=request.shipping_address,
        )
        return what

    def _held_for(self) -> str | None:
        """'release of the fraud_review hold by agent-7 (odd), then back to reserved'."""
        if (held := self._hold) is None:
            return None
        note = f" ({held.note})" if held.note else ""
        by = f"release of the {held.reason_code} hold by {held.requested_by}{note}"
        return f"{by}, then back to {self._resume_to}"

    async def _audit(
        self,
        action: SupportAction,
        request: CancelRequest | ChangeRequest | HoldRequest | ReleaseRequest,
        outcome: str,
        detail: str | None,
    ) -> None:
        await steps.record_audit(
            changes.audit_record(self._order.order_id, action, request, outcome, detail)
        )

    # OrderWorkflow's: how the order moves and how a row reaches the read model.

    async def _advance(
        self,
        status: OrderStatus,
        reason: str | None = None,
        actor: str = "workflow",
        shipment: Shipment | None = None,
        note: str | None = None,
    ) -> None:
        raise NotImplementedError

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
        raise NotImplementedError


def _refuse(refusal: str | None) -> None:
    """Refuse an update: its caller gets the reason (the API answers 409 with it)."""
    if refusal is not None:
        raise ApplicationError(refusal, type="Refused", non_retryable=True)
