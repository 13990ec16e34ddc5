"""Returns and claims in the read model: the API's writes at request time and its reads, the
workflow's status rows, and the warehouse's receipts (stock back on the shelf, or written off).

Units count against an order line while they are being returned (an open return asked for them)
or once they came back (a completed or expired return received them) or were claimed: so
`returned_units` is what a new return or claim may not exceed, with the line's shipped units.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import events, snapshots
from db.models import (
    MovementRecord,
    OrderRecord,
    ReturnHistoryRecord,
    ReturnLineRecord,
    ReturnReceiptRecord,
    ReturnRecord,
)
from db.stock import StockRepository
from integration.catalog import EventType
from workflows.return_contracts import (
    RETURN_OPEN,
    Condition,
    ReceiveUnitsInput,
    RecordReturnStatusInput,
    ReturnKind,
)

E = EventType
RESTOCK = "return_restock"  # the movement of a resellable unit back on the shelf
WRITE_OFF = "return_damaged"  # the movement of a damaged unit into the damaged count

_DETAILS = (selectinload(ReturnRecord.lines), selectinload(ReturnRecord.history))


@dataclass(frozen=True, kw_only=True)
class PagePosition:
    created_at: datetime
    return_id: str


async def lock_order(session: AsyncSession, order_id: str) -> OrderRecord | None:
    """The order with its lines and history, its row locked: requests for the same order wait
    for each other, so two returns can never together exceed what was shipped. FOR NO KEY
    UPDATE: rows that merely reference the order (a credit note, a refund) are not blocked, so
    a refund's transaction holding the payment's lock never deadlocks with a claim."""
    query = (
        select(OrderRecord)
        .where(OrderRecord.id == order_id)
        .options(selectinload(OrderRecord.lines), selectinload(OrderRecord.history))
        .with_for_update(of=OrderRecord, key_share=True)
    )
    found: OrderRecord | None = (await session.scalars(query)).one_or_none()
    return found


async def returned_units(session: AsyncSession, order_id: str) -> dict[str, int]:
    """Units per SKU the order's returns and claims hold: asked by an open return, received by
    a finished one, claimed by a claim."""
    counted = case(
        (ReturnRecord.kind == ReturnKind.CLAIM.value, ReturnLineRecord.quantity),
        (
            ReturnRecord.status.in_([s.value for s in RETURN_OPEN]),
            ReturnLineRecord.quantity,
        ),
        else_=ReturnLineRecord.resellable + ReturnLineRecord.damaged,
    )
    rows = await session.execute(
        select(ReturnLineRecord.sku, func.sum(counted))
        .join(ReturnRecord, ReturnRecord.id == ReturnLineRecord.return_id)
        .where(ReturnRecord.order_id == order_id)
        .group_by(ReturnLineRecord.sku)
    )
    return {sku: int(units) for sku, units in rows.all()}


async def create(session: AsyncSession, record: ReturnRecord) -> None:
    """Insert the return with its lines and first history row; the idempotency key may refuse.
    `return.requested` (or `claim.created`) with it."""
    session.add(record)
    await session.flush()
    claim = record.kind == ReturnKind.CLAIM.value
    await _announce(session, record.id, E.CLAIM_CREATED if claim else E.RETURN_REQUESTED)


async def get(session: AsyncSession, return_id: str) -> ReturnRecord | None:
    """One return or claim with its lines and history."""
    query = select(ReturnRecord).where(ReturnRecord.id == return_id).options(*_DETAILS)
    found: ReturnRecord | None = (await session.scalars(query)).one_or_none()
    return found


async def by_idempotency_key(
    session: AsyncSession, order_id: str, kind: ReturnKind, key: str
) -> ReturnRecord | None:
    query = (
        select(ReturnRecord)
        .where(
            ReturnRecord.order_id == order_id,
            ReturnRecord.kind == kind.value,
            ReturnRecord.idempotency_key == key,
        )
        .options(*_DETAILS)
    )
    found: ReturnRecord | None = (await session.scalars(query)).one_or_none()
    return found


async def of_order(
    session: AsyncSession, order_id: str, kind: ReturnKind | None = None
) -> Sequence[ReturnRecord]:
    query = select(ReturnRecord).where(ReturnRecord.order_id == order_id).options(*_DETAILS)
    if kind is not None:
        query = query.where(ReturnRecord.kind == kind.value)
    return (await session.scalars(query.order_by(ReturnRecord.created_at))).all()


async def page(
    session: AsyncSession,
    status: str | None,
    limit: int,
    after: PagePosition | None,
    kind: ReturnKind = ReturnKind.RETURN,
    channel: str | None = None,
) -> Sequence[ReturnRecord]:
    """Newest first, up to `limit` after `after` (keyset on (created_at, id)); `channel`: only
    that channel's (a storefront's page)."""
    query = select(ReturnRecord).where(ReturnRecord.kind == kind.value).options(*_DETAILS)
    if channel is not None:
        query = query.where(ReturnRecord.channel == channel)
    if status is not None:
        query = query.where(ReturnRecord.status == status)
    if after is not None:
        keyset = tuple_(ReturnRecord.created_at, ReturnRecord.id)
        query = query.where(keyset < tuple_(after.created_at, after.return_id))
    query = query.order_by(ReturnRecord.created_at.desc(), ReturnRecord.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def by_tracking_number(session: AsyncSession, tracking_number: str) -> ReturnRecord | None:
    """The return whose label has this tracking number (the warehouse scans the parcel)."""
    query = (
        select(ReturnRecord)
        .where(ReturnRecord.label_tracking_number == tracking_number)
        .options(*_DETAILS)
    )
    found: ReturnRecord | None = (await session.scalars(query.limit(1))).one_or_none()
    return found


async def record_status(session: AsyncSession, record: RecordReturnStatusInput) -> None:
    """Apply one transition of the workflow: the history row and the return's status (and label),
    once per `seq` (a retried write changes nothing)."""
    entry = record.entry
    inserted = await session.execute(
        insert(ReturnHistoryRecord)
        .values(
            return_id=record.return_id,
            seq=record.seq,
            status=entry.status.value,
            reason=entry.reason,
            actor=entry.actor,
            at=entry.at,
        )
        .on_conflict_do_nothing()
    )
    if not inserted.rowcount:  # type: ignore[attr-defined]
        return
    values: dict[str, object] = {
        "status": entry.status.value,
        "version": record.seq,
        "updated_at": entry.at,
    }
    if record.label is not None:
        values |= {
            "label_carrier": record.label.carrier,
            "label_tracking_number": record.label.tracking_number,
            "label_shipment_id": record.label.shipment_id,
        }
    if record.receive_by is not None:
        values["receive_by"] = record.receive_by
    await session.execute(
        update(ReturnRecord)
        .where(ReturnRecord.id == record.return_id, ReturnRecord.version < record.seq)
        .values(**values)
    )
    moved = EventType(f"return.{entry.status.value}")
    await _announce(session, record.return_id, moved, {"reason": entry.reason, "by": entry.actor})


async def _announce(
    session: AsyncSession, return_id: str, event: EventType, detail: dict[str, Any] | None = None
) -> None:
    """The return's event with its snapshot as this transaction wrote it (its writers use
    statements or the row they added, never a stale loaded row)."""
    query = (
        select(ReturnRecord)
        .where(ReturnRecord.id == return_id)
        .options(selectinload(ReturnRecord.lines))
    )
    ret = (await session.scalars(query)).one()
    data = {"return": snapshots.return_(ret), **(detail or {})}
    await events.emit(session, event, return_id, data)


async def receive(session: AsyncSession, receipt: ReceiveUnitsInput) -> list[str]:
    """Book one receipt once (by its request id): resellable units back on hand as `return_restock`
    movements, damaged ones into the damaged count as `return_damaged` movements, and the
    return's lines counted. Returns the SKUs that gained sellable stock (none on a retry)."""
    inserted = await session.execute(
        insert(ReturnReceiptRecord)
        .values(
            request_id=receipt.request_id,
            return_id=receipt.return_id,
            lines=[
                {"sku": line.sku, "quantity": line.quantity, "condition": line.condition.value}
                for line in receipt.lines
            ],
            received_by=receipt.received_by,
            at=func.now(),
        )
        .on_conflict_do_nothing()
    )
    if not inserted.rowcount:  # type: ignore[attr-defined]
        return []
    order_id = await session.scalar(
        select(ReturnRecord.order_id).where(ReturnRecord.id == receipt.return_id)
    )
    lines = await _lines_by_sku(session, receipt.return_id)
    items = await StockRepository(session).lock([line.sku for line in receipt.lines])
    restocked: set[str] = set()
    for got in receipt.lines:
        line, item = lines[got.sku], items[got.sku]
        damaged = got.condition is Condition.DAMAGED
        if damaged:
            line.damaged += got.quantity
            item.damaged += got.quantity
        else:
            line.resellable += got.quantity
            item.on_hand += got.quantity
            restocked.add(got.sku)
        session.add(
            MovementRecord(
                sku=got.sku,
                delta=got.quantity,
                reason=WRITE_OFF if damaged else RESTOCK,
                actor=receipt.received_by,
                order_id=order_id,
                stock="damaged" if damaged else "sellable",
                return_id=receipt.return_id,
            )
        )
    await session.flush()
    return sorted(restocked)


async def _lines_by_sku(session: AsyncSession, return_id: str) -> dict[str, ReturnLineRecord]:
    rows = await session.scalars(
        select(ReturnLineRecord).where(ReturnLineRecord.return_id == return_id).with_for_update()
    )
    return {line.sku: line for line in rows}
