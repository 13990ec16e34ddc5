"""Inventory: read, count and adjust the stock of one SKU."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Path
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.backorders import signal_stock_changed
from api.deps import SessionDep, TemporalDep
from api.errors import Conflict, SkuNotFound, answers
from api.mapping import to_stock_public
from api.schemas import StockAdjustment, StockPublic, StockSet
from db.models import InventoryRecord
from db.orders import OrderRepository
from db.stock import StockConflict, StockRepository, UnknownSku

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64)]
Actor = Annotated[str, Header(alias="X-Actor", min_length=1, max_length=128)]
NOT_FOUND = answers({404: "Unknown SKU"})
CONFLICT = answers({409: "on_hand would fall below reserved or exceed 2^31-1"})


@router.get("/{sku}", responses=NOT_FOUND)
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
    actor: Actor = "api",
) -> StockPublic:
    """Record a stock count: set on_hand, creating the SKU if new."""
    # Lock first so `before` is the value this change replaces, not a stale read.
    before = await session.get(InventoryRecord, sku, with_for_update=True)
    on_hand_before = 0 if before is None else before.on_hand
    try:
        item = await StockRepository(session).set_on_hand(sku, body.on_hand, actor)
        await session.commit()
    except StockConflict as err:
        raise Conflict(str(err)) from err
    except IntegrityError as err:  # two first counts of a new SKU at once
        raise Conflict(f"{sku!r} changed concurrently; retry") from err
    if item.on_hand > on_hand_before:
        await _wake_backorders(session, temporal, background, sku)
    return to_stock_public(item)


@router.post("/{sku}/adjustments", responses={**NOT_FOUND, **CONFLICT})
async def adjust_stock(
    sku: SkuPath,
    body: StockAdjustment,
    session: SessionDep,
    temporal: TemporalDep,
    background: BackgroundTasks,
    actor: Actor = "api",
) -> StockPublic:
    """Add `delta` to on_hand (a receipt, or negative for shrinkage), with its reason."""
    try:
        item = await StockRepository(session).adjust(sku, body.delta, body.reason, actor)
        await session.commit()
    except UnknownSku as err:
        raise SkuNotFound(sku) from err
    except StockConflict as err:
        raise Conflict(str(err)) from err
    if body.delta > 0:
        await _wake_backorders(session, temporal, background, sku)
    return to_stock_public(item)


async def _wake_backorders(
    session: AsyncSession, temporal: Client, background: BackgroundTasks, sku: str
) -> None:
    """After commit: find the orders waiting for `sku`, signal them once the answer is sent."""
    waiting = await OrderRepository(session).backordered_waiting_for(sku)
    if waiting:
        background.add_task(signal_stock_changed, temporal, waiting, sku)
