"""Finishes what a crash or a Temporal outage left half-done: a stored order (or a claimed
refund, or a requested return) with no workflow.

The API commits the order row, then starts its workflow. If the process dies (or Temporal is down)
in between and the storefront never retries, the row would wait forever. Every
`OMS_RECONCILE_INTERVAL` (30 s) this starts the workflow of each `pending` order older than
`OMS_RECONCILE_GRACE` (30 s), and so for pending refunds and returns still `requested` with
nothing recorded by a workflow (version 0); starting is idempotent, so one that already has a
workflow is left as it is.
"""

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from temporalio.client import Client

from db import refunds
from db.mapping import to_order_input, to_refund_input, to_return_input
from db.models import OrderRecord, ReturnRecord
from db.session import SessionFactory
from settings import Settings
from temporal_client import start_order, start_refund, start_return
from workflows.contracts import OrderStatus
from workflows.return_contracts import ReturnKind, ReturnStatus

log = logging.getLogger(__name__)
BATCH = 200


async def reconcile_once(client: Client, sessions: SessionFactory, settings: Settings) -> int:
    """Start the workflows of stale `pending` orders and refunds; returns how many."""
    cutoff = datetime.now(UTC) - settings.reconcile_grace
    async with sessions() as session:
        stale = await session.scalars(
            select(OrderRecord)
            .where(OrderRecord.status == OrderStatus.PENDING.value, OrderRecord.created_at < cutoff)
            .order_by(OrderRecord.created_at)
            .limit(BATCH)
            .options(selectinload(OrderRecord.lines))
        )
        orders = list(stale)
    for order in orders:
        await start_order(client, to_order_input(order, settings), settings.task_queue)
    async with sessions() as session:
        claimed = await refunds.pending_before(session, cutoff)
    for refund in claimed:
        await start_refund(client, to_refund_input(refund), settings.task_queue)
    requested = await _requested_returns(sessions, cutoff)
    for ret, currency in requested:
        await start_return(client, to_return_input(ret, currency, settings), settings.task_queue)
    return len(orders) + len(claimed) + len(requested)


async def _requested_returns(
    sessions: SessionFactory, cutoff: datetime
) -> list[tuple[ReturnRecord, str]]:
    """Returns the API stored but no workflow has touched yet, with their order's currency. (A
    return waiting for support's decision is one too: its start is a no-op.)"""
    async with sessions() as session:
        rows = await session.execute(
            select(ReturnRecord, OrderRecord.currency)
            .join(OrderRecord, OrderRecord.id == ReturnRecord.order_id)
            .where(
                ReturnRecord.kind == ReturnKind.RETURN.value,
                ReturnRecord.status == ReturnStatus.REQUESTED.value,
                ReturnRecord.version == 0,
                ReturnRecord.created_at < cutoff,
            )
            .order_by(ReturnRecord.created_at)
            .limit(BATCH)
            .options(selectinload(ReturnRecord.lines))
        )
        return [(ret, currency) for ret, currency in rows]


async def reconcile_forever(client: Client, sessions: SessionFactory, settings: Settings) -> None:
    """Run `reconcile_once` every `reconcile_interval`; an error is logged and tried next round."""
    while True:
        try:
            if started := await reconcile_once(client, sessions, settings):
                log.info("reconciler: ensured workflows for %d pending rows", started)
        except Exception:
            log.exception("reconciler round failed; trying again next round")
        await asyncio.sleep(settings.reconcile_interval.total_seconds())
