"""Inventory: read, count and adjust the stock of one SKU."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Path
from sqlalchemy.exc import IntegrityError

from api.auth import grants
from api.backorders import wake_backorders
from api.deps import SessionDep, TemporalDep
from api.errors import Conflict, SkuNotFound, answers
from api.mapping import to_stock_public
from api.schemas import StockAdjustment, StockPublic, StockSet
from db.models import InventoryRecord
from db.stock import StockConflict, StockRepository, UnknownSku
from security.principal import Principal
from security.roles import Scope

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64)]
# The caller's own name for whoever counted: kept as the movement's label beside the caller.
Label = Annotated[str | None, Header(alias="X-Actor", min_length=1, max_length=128)]
Writer = Annotated[Principal, grants(Scope.INVENTORY_WRITE)]
NOT_FOUND = answers({404: "Unknown SKU"})
CONFLICT = answers({409: "on_hand would fall below reserved or exceed 2^31-1"})


@router.get("/{sku}", responses=NOT_FOUND, dependencies=[grants(Scope.INVENTORY_READ)])
async def get_stock(sku: SkuPath, session: SessionDep) -> StockPublic:
    """Stock of one SKU: on hand, reserved and available."""
    item = await StockRepository(session).get(sku)
    if item is None:
        raise SkuNotFound(sku)
    return to_stock_public(item)


@router.put("/{sku}", responses=CONFLICT)
async def set_stock(
    sku: SkuPath,
    body: StockSet,
    session: SessionDep,
    temporal: TemporalDep,
    background: BackgroundTasks,
    caller: Writer,
    label: Label = None,
) -> StockPublic:
    """Record a stock count: set on_hand, creating the SKU if new."""
    # Lock first so `before` is the value this change replaces, not a stale read.
    before = await session.get(InventoryRecord, sku, with_for_update=True)
    on_hand_before = 0 if before is None else before.on_hand
    try:
        item = await StockRepository(session).set_on_hand(sku, body.on_hand, caller.actor, label)
        await session.commit()
    except StockConflict as err:
        raise Conflict(str(err)) from err
    except IntegrityError as err:  # two first counts of a new SKU at once
        raise Conflict(f"{sku!r} changed concurrently; retry") from err
    if item.on_hand > on_hand_before:
        await wake_backorders(session, temporal, background, sku)
    return to_stock_public(item)


@router.post("/{sku}/adjustments", responses={**NOT_FOUND, **CONFLICT})
async def adjust_stock(
    sku: SkuPath,
    body: StockAdjustment,
    session: SessionDep,
    temporal: TemporalDep,
    background: BackgroundTasks,
    caller: Writer,
    label: Label = None,
) -> StockPublic:
    """Add `delta` to on_hand (a receipt, or negative for shrinkage), with its reason."""
    try:
        stock = StockRepository(session)
        item = await stock.adjust(sku, body.delta, body.reason, caller.actor, label)
        await session.commit()
    except UnknownSku as err:
        raise SkuNotFound(sku) from err
    except StockConflict as err:
        raise Conflict(str(err)) from err
    if body.delta > 0:
        await wake_backorders(session, temporal, background, sku)
    return to_stock_public(item)
