"""How an order moves: each status change checked, shown to ops and written to the read model."""

from temporalio import workflow

from workflows import steps
from workflows.contracts import (
    ON_HOLD,
    ORDER_STATUS,
    Actor,
    Address,
    HistoryEntry,
    OrderLine,
    OrderStatus,
    RecordStatusInput,
    Shipment,
)
from workflows.progress import OrderProgress
from workflows.rules import TERMINAL, check_transition

S = OrderStatus


class Timeline:
    """The order's history as its workflow makes it. Every move is checked against the
    transition table, published (search attributes, the UI's current details) and recorded in
    the read model in order: `seq` makes each record idempotent under retries."""

    def __init__(self, progress: OrderProgress) -> None:
        self._progress = progress
        self.history: list[HistoryEntry] = []  # the n-th is recorded as seq n (0: the API's row)

    async def advance(
        self,
        status: OrderStatus,
        reason: str | None = None,
        actor: str = Actor.WORKFLOW,
        shipment: Shipment | None = None,
        note: str | None = None,
    ) -> None:
        """Move to `status` (checked against the table), then tell the UI and the read model.

        `reason` is the code (`status_reason` of a terminal status or of a hold); the history row
        shows it with the person's `note`, e.g. "cancelled_by_support: customer changed their mind".
        """
        progress = self._progress
        check_transition(progress.status, status)
        held = (
            [ON_HOLD.value_set(status is S.ON_HOLD)]
            if S.ON_HOLD in (progress.status, status)
            else []
        )
        if progress.status is S.ON_HOLD:
            progress.hold = progress.resume_to = None
        progress.status = status
        progress.reason = reason if status in TERMINAL or status is S.ON_HOLD else None
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value), *held])
        self.wait_for(None)
        await self.record(status, f"{reason}: {note}" if note else reason, actor, shipment)

    async def record(
        self,
        status: OrderStatus,
        reason: str | None,
        actor: str,
        shipment: Shipment | None = None,
        lines: list[OrderLine] | None = None,
        total: int | None = None,
        address: Address | None = None,
    ) -> None:
        """Append a history entry (a move, a change, a refused signal) and write it through."""
        entry = HistoryEntry(status=status, at=workflow.now(), reason=reason, actor=actor)
        self.history.append(entry)
        record = RecordStatusInput(
            order_id=self._progress.order.order_id,
            seq=len(self.history),
            entry=entry,
            shipment=shipment,
            status_reason=self._progress.reason,
            lines=lines,
            total=total,
            shipping_address=address,
        )
        await steps.record_status(record)

    def wait_for(self, what: str | None) -> None:
        """Say what the order waits for: in the `status` query and on the UI's workflow page."""
        self._progress.waiting_for = what
        self.show()

    def show(self) -> None:
        """The UI's current details: '**on_hold**, waiting for release of ... by agent-7'."""
        waiting = self._progress.waiting()
        details = f"**{self._progress.status}**" + (f", waiting for {waiting}" if waiting else "")
        workflow.set_current_details(details)
