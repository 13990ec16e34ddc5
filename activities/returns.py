"""A return's activities: its status rows, its label, the warehouse's receipts, its resolution.

Each writes in one transaction keyed by the return (a retry writes nothing twice), then starts
what it placed (a card refund's workflow, an exchange's or reship's order): starting is
idempotent, and the reconciler starts whatever a crash left unstarted.
"""

from typing import Protocol

from temporalio import activity

from db import return_books, returns
from db.mapping import to_order_input, to_refund_input
from db.session import SessionFactory
from settings import Settings
from temporal_client import start_resolution
from workflows.contracts import ActivityName, Shipment
from workflows.return_contracts import (
    ReceiveUnitsInput,
    ReceiveUnitsResult,
    RecordReturnStatusInput,
    ResolveReturnInput,
    ResolveReturnResult,
    ReturnLabel,
    ReturnRef,
    ReturnSettled,
    SettleReturnInput,
)


class ReturnCarrier(Protocol):
    """What a carrier adapter implements for returns: one label per return, idempotent."""

    async def create_return_label(self, return_id: str) -> Shipment:
        """Buy (or find) the return's label: the customer sends the parcel with it."""
        ...

    async def void_return_label(self, return_id: str) -> None:
        """Void the label (no-op when there is none)."""
        ...


class ReturnActivities:
    def __init__(
        self, sessions: SessionFactory, settings: Settings, carrier: ReturnCarrier
    ) -> None:
        self._sessions, self._settings, self._carrier = sessions, settings, carrier

    @activity.defn(name=ActivityName.RECORD_RETURN_STATUS)
    async def record_return_status(self, input: RecordReturnStatusInput) -> None:
        """Keep the read model current: the history row and the return's status, once per seq."""
        async with self._sessions.begin() as session:
            await returns.record_status(session, input)

    @activity.defn(name=ActivityName.CREATE_RETURN_LABEL)
    async def create_return_label(self, input: ReturnRef) -> ReturnLabel:
        label = await self._carrier.create_return_label(input.return_id)
        return ReturnLabel(
            carrier=label.carrier,
            tracking_number=label.tracking_number,
            shipment_id=label.shipment_id,
        )

    @activity.defn(name=ActivityName.VOID_RETURN_LABEL)
    async def void_return_label(self, input: ReturnRef) -> None:
        await self._carrier.void_return_label(input.return_id)

    @activity.defn(name=ActivityName.RECEIVE_RETURN_UNITS)
    async def receive_return_units(self, input: ReceiveUnitsInput) -> ReceiveUnitsResult:
        """Book a receipt: resellable units back on hand, damaged ones written off. Once."""
        async with self._sessions.begin() as session:
            restocked = await returns.receive(session, input)
        return ReceiveUnitsResult(restocked_skus=restocked)

    @activity.defn(name=ActivityName.RESOLVE_RETURN)
    async def resolve_return(self, input: ResolveReturnInput) -> ResolveReturnResult:
        """Refund, credit or exchange what arrived (advance: place the exchange's order now)."""
        async with self._sessions.begin() as session:
            if input.advance:
                resolved = return_books.Resolved(
                    order=await return_books.place_advance(session, input.return_id)
                )
            else:
                resolved = await return_books.resolve(session, input.return_id, self._settings)
            refunds = [to_refund_input(refund) for refund in resolved.to_start]
            order = (
                None if resolved.order is None else to_order_input(resolved.order, self._settings)
            )
        queue = activity.info().task_queue  # the return's own: its orders run beside it
        await start_resolution(activity.client(), refunds, order, queue)
        return ResolveReturnResult(
            refund_ids=resolved.refund_ids,
            exchange_order_id=None if order is None else order.order_id,
            note=resolved.note,
        )

    @activity.defn(name=ActivityName.SETTLE_RETURN)
    async def settle_return(self, input: SettleReturnInput) -> ReturnSettled:
        """An advance exchange's return ended: credit what arrived to the replacement order."""
        async with self._sessions.begin() as session:
            settled = await return_books.settle_advance(session, input.return_id, self._settings)
        return ReturnSettled(return_id=input.return_id, covered=settled.covered)
