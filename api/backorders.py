"""Waking backordered orders when a SKU gets stock: a `stock_changed` signal to each one."""

import asyncio
import logging

from fastapi import BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.orders import OrderRepository
from workflows.contracts import StockChanged, order_workflow_id
from workflows.order import OrderWorkflow

log = logging.getLogger(__name__)
CONCURRENCY = 50  # signals in flight at once: a big receipt must not flood the frontend


async def signal_stock_changed(client: Client, order_ids: list[str], sku: str) -> None:
    """Signal every order concurrently (bounded); closed workflows are skipped."""
    gate = asyncio.Semaphore(CONCURRENCY)
    change = StockChanged(skus=[sku])

    async def wake(order_id: str) -> None:
        handle = client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order_id))
        async with gate:
            try:
                await handle.signal(OrderWorkflow.stock_changed, change)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:  # not found: it closed meanwhile
                    # The workflow rechecks on a timer anyway: a lost wake-up only delays it.
                    log.warning("stock_changed to order %s failed: %s", order_id, err)

    await asyncio.gather(*(wake(order_id) for order_id in order_ids))


async def wake_backorders(
    session: AsyncSession, temporal: Client, background: BackgroundTasks, sku: str
) -> None:
    """After `sku` gained stock (committed): find the orders waiting for it, and signal them
    once the answer is sent."""
    waiting = await OrderRepository(session).backordered_waiting_for(sku)
    if waiting:
        background.add_task(signal_stock_changed, temporal, waiting, sku)
