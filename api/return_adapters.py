"""The outside parts behind api/return_service.py: the return workflow's Updates (Temporal), the
starts a claim's resolution needs, and the reads of a return's money."""

import logging
from collections.abc import Sequence

from fastapi import BackgroundTasks
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.backorders import signal_stock_changed, wake_backorders
from api.return_mapping import to_claim_public, to_return_public
from api.return_schemas import ClaimPublic, ReturnPublic
from api.support_adapters import UPDATE_WAIT, update_answers
from db.mapping import to_order_input, to_refund_input
from db.models import OrderRecord, RefundRecord, ReturnRecord
from db.orders import OrderRepository
from db.return_books import is_exchange_cover
from settings import Settings
from temporal_client import start_resolution as start_workflows
from workflows.return_contracts import (
    ReceiveRequest,
    ReturnAction,
    ReturnAnswer,
    ReturnDecision,
    return_workflow_id,
)

log = logging.getLogger(__name__)


class TemporalReturnUpdates:
    """Updates of `return-{id}` through the process's client; the request id is the update id,
    so a retried request is the same update and gets its first answer."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def send(
        self, return_id: str, action: ReturnAction, request: ReturnDecision | ReceiveRequest
    ) -> ReturnAnswer:
        """The workflow's answer; Refused (its validator said no, and why), WorkflowNotRunning,
        or SupportUnavailable (Temporal did not answer: the action may still apply)."""
        handle = self._client.get_workflow_handle(return_workflow_id(return_id))
        with update_answers(return_id, "return"):
            answer: ReturnAnswer = await handle.execute_update(
                action.value,  # approve, decline, cancel, receive
                request,
                id=request.request_id,
                result_type=ReturnAnswer,
                rpc_timeout=UPDATE_WAIT,
            )
        return answer


async def refunds_of(session: AsyncSession, return_ids: Sequence[str]) -> dict[str, RefundRecord]:
    """The money each return gave back, in one query: its refund or store credit, or an
    exchange's difference — never the exchange's store credit that pays the new order."""
    if not return_ids:
        return {}
    rows = await session.scalars(
        select(RefundRecord)
        .where(RefundRecord.return_id.in_(return_ids))
        .order_by(RefundRecord.created_at)
    )
    found: dict[str, RefundRecord] = {}
    for refund in rows:
        if refund.return_id is not None and not is_exchange_cover(refund):
            found.setdefault(refund.return_id, refund)
    return found


async def start_resolution(
    temporal: Client,
    settings: Settings,
    refunds: Sequence[RefundRecord],
    order: OrderRecord | None,
) -> None:
    """Start what a committed resolution left to workflows: its card refunds, its order. A
    failure is only logged: the reconciler starts pending refunds and orders within a minute."""
    inputs = [to_refund_input(refund) for refund in refunds]
    placed = None if order is None else to_order_input(order, settings)
    try:
        await start_workflows(temporal, inputs, placed, settings.task_queue)
    except (RPCError, RuntimeError) as err:
        log.warning("a resolution's workflows did not start (the reconciler will): %s", err)


async def return_views(
    session: AsyncSession, records: Sequence[ReturnRecord]
) -> list[ReturnPublic]:
    """The HTTP view of each return, with the money it gave back (one query for them all)."""
    money = await refunds_of(session, [record.id for record in records])
    return [to_return_public(record, money.get(record.id)) for record in records]


async def claim_views(session: AsyncSession, records: Sequence[ReturnRecord]) -> list[ClaimPublic]:
    """The HTTP view of each claim, with its refund (one query for them all)."""
    money = await refunds_of(session, [record.id for record in records])
    return [to_claim_public(record, money.get(record.id)) for record in records]


async def wake_restocked(
    session: AsyncSession, temporal: Client, skus: Sequence[str], background: BackgroundTasks | None
) -> None:
    """Wake the backordered orders of SKUs that got sellable stock back: after the answer when
    `background` is given (a route), else now (the console)."""
    for sku in skus:
        if background is not None:
            await wake_backorders(session, temporal, background, sku)
        elif waiting := await OrderRepository(session).backordered_waiting_for(sku):
            await signal_stock_changed(temporal, waiting, sku)
