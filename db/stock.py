"""Stock: reservations, releases, shipments and on-hand changes, each in the caller's transaction.

Every path locks the SKU rows it touches with `SELECT ... ORDER BY sku FOR UPDATE` first, so two
transactions always lock in the same order (no deadlocks), and the table's CHECK makes an oversell
impossible even if this code were wrong.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InventoryRecord, MovementRecord, ReservationRecord

MAX_ON_HAND = 2**31 - 1  # inventory_items.on_hand is a 32-bit integer


class UnknownSku(LookupError):
    """The inventory has never heard of this SKU."""


class StockConflict(ValueError):
    """The change would take `on_hand` below what is reserved, or past what the column holds."""


@dataclass(frozen=True, kw_only=True)
class Wanted:
    sku: str
    quantity: int


_ADD_RESERVED = text(
    "UPDATE inventory_items AS i SET reserved = i.reserved + v.qty, updated_at = now() "
    "FROM unnest(CAST(:skus AS text[]), CAST(:qtys AS int[])) AS v(sku, qty) WHERE i.sku = v.sku"
)
_BOOK_OUT = text(
    "UPDATE inventory_items AS i "
    "SET on_hand = i.on_hand - v.qty, reserved = i.reserved - v.qty, updated_at = now() "
    "FROM unnest(CAST(:skus AS text[]), CAST(:qtys AS int[])) AS v(sku, qty) WHERE i.sku = v.sku"
)
_LOCK_FOR_ORDER = text(
    "SELECT i.sku, i.on_hand - i.reserved AS available, "
    "EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = :oid) AS done "
    "FROM inventory_items AS i WHERE i.sku = ANY(CAST(:skus AS text[])) ORDER BY i.sku FOR UPDATE"
)
_RESERVE = text(
    "WITH wanted AS "
    "(SELECT * FROM unnest(CAST(:skus AS text[]), CAST(:qtys AS int[])) AS v(sku, qty)), "
    "added AS (UPDATE inventory_items AS i SET reserved = i.reserved + w.qty, updated_at = now() "
    "FROM wanted AS w WHERE i.sku = w.sku) "
    "INSERT INTO reservations (order_id, sku, quantity, status) "
    "SELECT :oid, w.sku, w.qty, 'open' FROM wanted AS w"
)
_SET_RESERVATION = text(
    "INSERT INTO reservations (order_id, sku, quantity, status) "
    "SELECT :oid, v.sku, v.qty, 'open' "
    "FROM unnest(CAST(:skus AS text[]), CAST(:qtys AS int[])) AS v(sku, qty) "
    "ON CONFLICT (order_id, sku) DO UPDATE SET quantity = EXCLUDED.quantity, status = 'open'"
)
_DROP_RESERVATION = text(
    "UPDATE reservations SET status = 'released' "
    "WHERE order_id = :oid AND status = 'open' AND sku = ANY(CAST(:skus AS text[]))"
)
_SET_RESERVATIONS = text(
    "UPDATE reservations SET status = :new WHERE order_id = :order_id AND status = 'open' "
    "RETURNING sku, quantity"
)


class StockRepository:
    """Inventory operations on one session; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, sku: str) -> InventoryRecord | None:
        return await self._session.get(InventoryRecord, sku)

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]:
        """The SKUs among `skus` the inventory does not know, in the given order."""
        known = set(
            await self._session.scalars(
                select(InventoryRecord.sku).where(InventoryRecord.sku.in_(skus))
            )
        )
        return [sku for sku in skus if sku not in known]

    async def reserve(self, order_id: str, wanted: Sequence[Wanted]) -> list[str]:
        """Reserve all lines or none; returns the short SKUs (empty: reserved, now or before).

        Two statements while the SKU rows are locked (lock + check, then update + insert), so a
        hot SKU's lock is held for as short a time as the all-or-nothing check allows.
        """
        skus, qtys = [w.sku for w in wanted], [w.quantity for w in wanted]
        locked = (
            await self._session.execute(_LOCK_FOR_ORDER, {"skus": skus, "oid": order_id})
        ).all()
        if any(row.done for row in locked):
            return []  # a retry after a lost reply: the first attempt committed
        available = {row.sku: row.available for row in locked}
        missing = [w.sku for w in wanted if available.get(w.sku, 0) < w.quantity]
        if not missing:
            # The primary key refuses a concurrent duplicate attempt of the same order.
            await self._session.execute(_RESERVE, {"skus": skus, "qtys": qtys, "oid": order_id})
        return missing

    async def change(self, order_id: str, wanted: Sequence[Wanted]) -> list[str]:
        """Make the order's open reservation exactly `wanted` (a SKU left out is released).

        All or nothing: returns the SKUs whose extra units are not available, changing nothing.
        Idempotent: the difference is taken against what the order holds now."""
        held = await self._open_reservations(order_id)
        target = {w.sku: w.quantity for w in wanted if w.quantity > 0}
        items = await self.lock([*held, *target])
        delta = {sku: target.get(sku, 0) - held.get(sku, 0) for sku in sorted({*held, *target})}
        missing = [
            sku
            for sku, more in delta.items()
            if more > 0 and (sku not in items or items[sku].on_hand - items[sku].reserved < more)
        ]
        changed = {sku: more for sku, more in delta.items() if more}
        if missing or not changed:
            return missing
        await self._session.execute(
            _ADD_RESERVED, {"skus": list(changed), "qtys": list(changed.values())}
        )
        await self._session.execute(
            _SET_RESERVATION, {"oid": order_id, "skus": list(target), "qtys": list(target.values())}
        )
        dropped = [sku for sku in held if sku not in target]
        await self._session.execute(_DROP_RESERVATION, {"oid": order_id, "skus": dropped})
        return []

    async def release(self, order_id: str) -> None:
        """Give back the order's open reservations (compensation). Idempotent."""
        taken = await self._close_reservations(order_id, "released")
        if taken:
            await self._session.execute(
                _ADD_RESERVED, {"skus": list(taken), "qtys": [-q for q in taken.values()]}
            )

    async def ship(self, order_id: str) -> None:
        """The reserved units leave: on_hand and reserved drop, written as movements. Idempotent."""
        taken = await self._close_reservations(order_id, "shipped")
        if not taken:
            return
        await self._session.execute(_BOOK_OUT, {"skus": list(taken), "qtys": list(taken.values())})
        self._session.add_all(
            MovementRecord(
                sku=sku, delta=-qty, reason="shipment", actor="workflow", order_id=order_id
            )
            for sku, qty in taken.items()
        )

    async def set_on_hand(
        self, sku: str, on_hand: int, actor: str, label: str | None = None
    ) -> InventoryRecord:
        """Set on_hand (creating the SKU if new), written as a movement of the difference."""
        rows = await self.lock([sku])
        if (item := rows.get(sku)) is None:
            item = InventoryRecord(sku=sku, on_hand=0, reserved=0)
            self._session.add(item)
        return await self._move(item, on_hand - item.on_hand, "stock count", actor, label)

    async def adjust(
        self, sku: str, delta: int, reason: str, actor: str, label: str | None = None
    ) -> InventoryRecord:
        """Add `delta` (negative to remove) to an existing SKU's on_hand, as a movement."""
        item = (await self.lock([sku])).get(sku)
        if item is None:
            raise UnknownSku(sku)
        return await self._move(item, delta, reason, actor, label)

    async def _move(
        self, item: InventoryRecord, delta: int, reason: str, actor: str, label: str | None
    ) -> InventoryRecord:
        if item.on_hand + delta < item.reserved:
            raise StockConflict(
                f"on_hand would be {item.on_hand + delta}, below the {item.reserved} reserved"
            )
        if item.on_hand + delta > MAX_ON_HAND:  # else PostgreSQL refuses it: a 500, not a 409
            raise StockConflict(f"on_hand would be {item.on_hand + delta}, above {MAX_ON_HAND}")
        if delta != 0:
            item.on_hand += delta
            self._session.add(
                MovementRecord(sku=item.sku, delta=delta, reason=reason, actor=actor, label=label)
            )
        await self._session.flush()
        return item

    async def lock(self, skus: Sequence[str]) -> dict[str, InventoryRecord]:
        """Lock SKU rows in a stable order: the rule that keeps concurrent orders deadlock-free."""
        rows = await self._session.scalars(
            select(InventoryRecord)
            .where(InventoryRecord.sku.in_(sorted(set(skus))))
            .order_by(InventoryRecord.sku)
            .with_for_update()
        )
        return {row.sku: row for row in rows}

    async def _open_reservations(self, order_id: str) -> dict[str, int]:
        rows = await self._session.execute(
            select(ReservationRecord.sku, ReservationRecord.quantity).where(
                ReservationRecord.order_id == order_id, ReservationRecord.status == "open"
            )
        )
        return {row.sku: row.quantity for row in rows}

    async def _close_reservations(self, order_id: str, new_status: str) -> dict[str, int]:
        """Move the order's open reservations to `new_status`; returns what they held, by SKU."""
        open_skus = await self._session.scalars(
            select(ReservationRecord.sku).where(
                ReservationRecord.order_id == order_id, ReservationRecord.status == "open"
            )
        )
        await self.lock(list(open_skus))  # inventory rows first, as everywhere
        closed = await self._session.execute(
            _SET_RESERVATIONS, {"new": new_status, "order_id": order_id}
        )
        return {row.sku: row.quantity for row in closed}

    # Reads for the console's inventory pages.

    async def search(self, prefix: str, limit: int) -> Sequence[InventoryRecord]:
        """SKUs starting with `prefix` (any case), in SKU order; the first ones for ""."""
        query = select(InventoryRecord).order_by(InventoryRecord.sku).limit(limit)
        if prefix:
            starts = func.lower(InventoryRecord.sku).startswith(prefix.lower(), autoescape=True)
            query = query.where(starts)
        return (await self._session.scalars(query)).all()

    async def movements(self, sku: str, limit: int) -> Sequence[MovementRecord]:
        """The SKU's newest movements first (ix_stock_movements_sku serves it)."""
        query = (
            select(MovementRecord)
            .where(MovementRecord.sku == sku)
            .order_by(MovementRecord.id.desc())
            .limit(limit)
        )
        return (await self._session.scalars(query)).all()
