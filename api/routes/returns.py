"""Returns: request one (idempotently), read them, and the workflow's Updates on one (approve,
decline, cancel, receive), each answered synchronously with the return as it is now: 409 with
the reason it was refused. An `Idempotency-Key` makes a retried request the same one."""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Response

from api.auth import grants
from api.cursor import BadCursor, decode_return_cursor, encode_return_cursor
from api.deps import IdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.errors import answers, field_error, invalid
from api.return_schemas import (
    ReceiptCreate,
    ReturnCreate,
    ReturnDecisionCreate,
    ReturnDeclineCreate,
    ReturnPublic,
    ReturnsPublic,
)
from api.return_service import ReturnService
from db.returns import PagePosition
from security.principal import Principal
from security.roles import Scope
from workflows.return_contracts import ReturnStatus

router = APIRouter(tags=["returns"])


def get_returns(session: SessionDep, temporal: TemporalDep, settings: SettingsDep) -> ReturnService:
    """The return actions, on this request's session and the process's Temporal client."""
    return ReturnService(session, temporal, settings)


Returns = Annotated[ReturnService, Depends(get_returns)]
Reader = Annotated[Principal, grants(Scope.RETURNS_READ)]
Decider = Annotated[Principal, grants(Scope.RETURNS_DECIDE)]
ACTED = answers(
    {
        404: "No such return",
        409: "Refused by the return; `detail` says why",
        503: "Temporal did not answer: retry with the same Idempotency-Key",
    }
)


@router.post(
    "/v1/orders/{order_id}/returns",
    status_code=HTTPStatus.ACCEPTED,
    responses=answers(
        {
            404: "No such order",
            409: "Not shipped, not delivered yet (use a claim), outside the return window, more "
            "units than can be returned, or the Idempotency-Key was used for another body",
            503: "Stored, but Temporal is unavailable: retry with the same key",
        }
    ),
)
async def request_return(
    order_id: str,
    body: ReturnCreate,
    response: Response,
    service: Returns,
    caller: Annotated[Principal, grants(Scope.RETURNS_CREATE)],
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """Ask for (part of) a delivered order back: a refund, store credit, or an exchange. The
    return runs as the workflow `return-{id}`: approved (at once, or by support), a label,
    the parcel received, then the resolution."""
    ret = await service.request(order_id, body, caller, idempotency_key)
    response.headers["Location"] = f"/v1/returns/{ret.id}"
    return (await service.views([ret]))[0]


@router.get("/v1/orders/{order_id}/returns", responses=answers({404: "No such order"}))
async def list_order_returns(order_id: str, service: Returns, caller: Reader) -> ReturnsPublic:
    """The order's returns, oldest first."""
    rows = await service.of_order(order_id, caller)
    return ReturnsPublic(items=await service.views(rows))


@router.get("/v1/returns")
async def list_returns(
    service: Returns,
    caller: Reader,
    status: ReturnStatus | None = None,
    tracking_number: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ReturnsPublic:
    """Returns newest first, by status, or the one whose label has `tracking_number`; follow
    `next_cursor` for more. A storefront key lists its own channel's returns only."""
    rows = await service.page(caller, status, limit + 1, _position(cursor), tracking_number)
    page, next_cursor = rows[:limit], None
    if len(rows) > limit:
        last = page[-1]
        position = PagePosition(created_at=last.created_at, return_id=last.id)
        next_cursor = encode_return_cursor(position)
    return ReturnsPublic(items=await service.views(page), next_cursor=next_cursor)


@router.get("/v1/returns/{return_id}", responses=answers({404: "No such return"}))
async def get_return(return_id: str, service: Returns, caller: Reader) -> ReturnPublic:
    """One return: its status and history, its label, what arrived, and the money back."""
    return (await service.views([await service.get(return_id, caller)]))[0]


@router.post("/v1/returns/{return_id}/approve", responses=ACTED)
async def approve_return(
    return_id: str,
    body: ReturnDecisionCreate,
    service: Returns,
    caller: Decider,
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """Approve a `requested` return (when returns are not approved automatically)."""
    ret = await service.approve(return_id, body.reason, caller, idempotency_key)
    return (await service.views([ret]))[0]


@router.post("/v1/returns/{return_id}/decline", responses=ACTED)
async def decline_return(
    return_id: str,
    body: ReturnDeclineCreate,
    service: Returns,
    caller: Decider,
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """Decline a `requested` return, with the reason the customer is told."""
    ret = await service.decline(return_id, body.reason, caller, idempotency_key)
    return (await service.views([ret]))[0]


@router.post("/v1/returns/{return_id}/cancel", responses=ACTED)
async def cancel_return(
    return_id: str,
    body: ReturnDecisionCreate,
    service: Returns,
    caller: Annotated[Principal, grants(Scope.RETURNS_CANCEL)],
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """Cancel a return before anything arrived; its label is voided."""
    ret = await service.cancel(return_id, body.reason, caller, idempotency_key)
    return (await service.views([ret]))[0]


@router.post("/v1/returns/{return_id}/receive", responses=ACTED)
async def receive_return(
    return_id: str,
    body: ReceiptCreate,
    service: Returns,
    background: BackgroundTasks,
    caller: Annotated[Principal, grants(Scope.RETURNS_RECEIVE)],
    idempotency_key: IdempotencyKey = None,
) -> ReturnPublic:
    """The warehouse scanned (part of) the parcel: resellable units back on the shelf (waking
    orders backordered on them), damaged ones written off. Receipts add up; more than the
    return expects is a 409."""
    ret = await service.receive(return_id, body.lines, caller, idempotency_key, background)
    return (await service.views([ret]))[0]


def _position(cursor: str | None) -> PagePosition | None:
    if cursor is None:
        return None
    try:
        return decode_return_cursor(cursor)
    except BadCursor:
        loc = ("query", "cursor")
        raise invalid(
            [field_error(loc, "not a cursor from this API", "bad_cursor", cursor)]
        ) from None
