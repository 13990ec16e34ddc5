"""Where one order is in its life: the state its workflow keeps and the refusal rules read."""

from dataclasses import dataclass

from workflows.contracts import CancelRequest, HoldRequest, OrderInput, OrderStatus

S = OrderStatus
_GONE = frozenset({S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.FAILED})


@dataclass(kw_only=True)
class OrderProgress:
    """One order's state inside its OrderWorkflow run: changed only by the workflow (its steps
    and its support actions, one at a time under its lock), read by workflows/rules.py."""

    order: OrderInput  # as changed by support so far
    status: OrderStatus = OrderStatus.PENDING
    reason: str | None = None  # the status_reason of a terminal status or of a hold
    cancel: CancelRequest | None = None  # an accepted cancellation, not yet carried out
    hold: HoldRequest | None = None
    resume_to: OrderStatus | None = None  # while on hold: where a release returns the order to
    reserved: bool = False
    authorized: bool = False
    picking: bool = False  # from here on the lines are the warehouse's
    shipping: bool = False  # from here on the parcel is leaving: no cancel, no hold
    stopping: bool = False  # compensating or finishing: support actions are refused
    stock_changed: bool = False  # a backordered order should try to reserve again
    adjustments: int = 0  # authorization adjustments tried: their idempotency keys
    waiting_for: str | None = None  # what a step waits for (stock, delivery)

    @property
    def where(self) -> OrderStatus:
        """Where the order is in its story: the status it resumes to while on hold."""
        return self.resume_to if self.resume_to is not None else self.status

    def left_or_ended(self) -> bool:
        """Shipped, or stopping for good: no longer late for shipping, whatever the clock says."""
        return self.stopping or self.status in _GONE

    def waiting(self) -> str | None:
        """What the order waits for, as ops read it: a step's wait, else the release of a hold."""
        return self.waiting_for or self._held_for()

    def _held_for(self) -> str | None:
        """'release of the fraud_review hold by agent-7 (odd), then back to reserved'."""
        if (held := self.hold) is None:
            return None
        note = f" ({held.note})" if held.note else ""
        by = f"release of the {held.reason_code} hold by {held.requested_by}{note}"
        return f"{by}, then back to {self.resume_to}"
