"""Refunds: claim one (idempotently) and start its workflow; read one, or an order's."""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Response

from api.auth import grants
from api.deps import IdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.errors import (
    NotFound,
    answers,
)
from api.money_mapping import to_refund_public
from api.money_schemas import RefundCreate, RefundPublic, RefundsPublic
from api.refund_service import claim_and_start, order_head, sees_order
from db import refunds
from security.principal import Principal
from security.roles import Scope

router = APIRouter(tags=["refunds"])
ReadsRefunds = Annotated[Principal, grants(Scope.REFUNDS_READ)]


@router.post(
    "/v1/orders/{order_id}/refunds",
    status_code=HTTPStatus.ACCEPTED,
    responses=answers(
        {
            404: "No such order",
            409: "Nothing captured yet, more than is refundable, or the Idempotency-Key was "
            "used for another body",
            503: "Claimed, but Temporal is unavailable: retry with the same key",
        }
    ),
)
async def create_refund(
    order_id: str,
    body: RefundCreate,
    response: Response,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Annotated[Principal, grants(Scope.REFUNDS_CREATE)],
    idempotency_key: IdempotencyKey = None,
) -> RefundPublic:
    """Give money back for a captured order: units at their paid price (`lines`) or a sum
    (`amount`), to the card or as store credit. The refund is claimed at once (so concurrent
    refunds can never exceed what was paid) and runs as the workflow `refund-{id}`."""
    queue, key = settings.task_queue, idempotency_key
    refund = await claim_and_start(session, temporal, queue, order_id, body, caller, key)
    response.headers["Location"] = f"/v1/refunds/{refund.id}"
    return to_refund_public(refund)


@router.get("/v1/orders/{order_id}/refunds", responses=answers({404: "No such order"}))
async def list_order_refunds(
    order_id: str, session: SessionDep, caller: ReadsRefunds
) -> RefundsPublic:
    """The order's refunds, oldest first."""
    await order_head(session, order_id, caller)
    rows = await refunds.of_order(session, order_id)
    return RefundsPublic(items=[to_refund_public(row) for row in rows])


@router.get("/v1/refunds/{refund_id}", responses=answers({404: "No such refund"}))
async def get_refund(refund_id: str, session: SessionDep, caller: ReadsRefunds) -> RefundPublic:
    """One refund: `pending` until the money is back (`succeeded`, with its credit note) or the
    gateway refused it (`failed`, with the reason)."""
    refund = await refunds.get(session, refund_id)
    if refund is None or not await sees_order(session, refund.order_id, caller):
        raise NotFound(f"refund {refund_id} not found")
    return to_refund_public(refund)
