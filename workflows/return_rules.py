"""A return's rules, pure and deterministic: its moves, and what its Updates may ask when.

A refusal is an ApplicationError of type "Refused" with the reason in words: the validators raise
it before anything is written, and the API answers it as a 409."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.exceptions import ApplicationError

from workflows.return_contracts import (
    RETURN_TERMINAL,
    ReceivedLine,
    ReturnInput,
    ReturnStatus,
)

S = ReturnStatus
MOVES: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.DECLINED, S.CANCELLED}),
    S.APPROVED: frozenset({S.AWAITING_RECEIPT, S.CANCELLED}),
    S.AWAITING_RECEIPT: frozenset({S.RECEIVED, S.COMPLETED, S.EXPIRED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.COMPLETED}),
}


def refused(reason: str) -> ApplicationError:
    return ApplicationError(reason, type="Refused", non_retryable=True)


@dataclass(kw_only=True)
class ReturnProgress:
    """Where the return is, what it expects back and what arrived (units per SKU)."""

    status: ReturnStatus
    expected: dict[str, int]
    received: dict[str, int] = field(default_factory=dict)
    tracking_number: str | None = None
    closed: bool = False  # past the receive window, or cancelled: no more receipts

    @classmethod
    def of(cls, input: ReturnInput) -> "ReturnProgress":
        expected: dict[str, int] = {}
        for line in input.lines:
            expected[line.sku] = expected.get(line.sku, 0) + line.quantity
        return cls(status=S.REQUESTED, expected=expected)

    def move(self, status: ReturnStatus) -> None:
        if status not in MOVES.get(self.status, frozenset()):
            raise RuntimeError(f"a return cannot move from {self.status} to {status}")
        self.status = status

    def check_decision(self) -> None:
        if self.status is not S.REQUESTED:
            raise refused(f"the return is {self.status}: only a requested return is decided")

    def check_cancel(self, cancelling: bool, advance: bool) -> None:
        if cancelling or self.status is S.CANCELLED:
            raise refused("the return is already being cancelled")
        if self.status in RETURN_TERMINAL or self.status is S.RECEIVED:
            raise refused(f"the return is {self.status}: it can no longer be cancelled")
        if self.any_received():
            raise refused("part of the parcel has arrived: the return can no longer be cancelled")
        if advance and self.status is not S.REQUESTED:
            raise refused(
                "the exchange's replacement has been sent: the return cannot be cancelled"
            )

    def add(self, lines: Sequence[ReceivedLine]) -> None:
        for line in lines:
            self.received[line.sku] = self.received.get(line.sku, 0) + line.quantity

    def all_received(self) -> bool:
        return all(self.received.get(sku, 0) >= units for sku, units in self.expected.items())

    def any_received(self) -> bool:
        return any(units > 0 for units in self.received.values())


def refuse_receipt(progress: ReturnProgress, lines: Sequence[ReceivedLine]) -> None:
    """Refused unless the return awaits its parcel and each SKU stays within what is expected."""
    if progress.status is not S.AWAITING_RECEIPT or progress.closed:
        raise refused(f"the return is {progress.status}: it is not waiting for a parcel")
    if not lines:
        raise refused("a receipt needs at least one line")
    asked: dict[str, int] = {}
    for line in lines:
        if line.quantity <= 0:
            raise refused(f"{line.sku}: a received quantity is at least 1")
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
    for sku, units in asked.items():
        if sku not in progress.expected:
            raise refused(f"{sku} is not in this return")
        left = progress.expected[sku] - progress.received.get(sku, 0)
        if units > left:
            raise refused(
                f"{units} × {sku} is more than expected: {progress.expected[sku]} asked back, "
                f"{progress.received.get(sku, 0)} received already"
            )
