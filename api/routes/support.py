"""Support actions on an order: change, hold, release, cancel, and their audit trail.

Each answers synchronously with the workflow's decision: 200 (202 for cancel) with the order as
it is now, 409 with the reason it was refused, 422 for a request that cannot apply to the order.
An `Idempotency-Key` makes a retried request the same action (Temporal's update id).
"""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Header

from api import support
from api.deps import ResourcesDep, SessionDep
from api.mapping import to_audit_public, to_order_public
from api.schemas import (
    AuditPublic,
    CancelCreate,
    ChangeCreate,
    HoldCreate,
    OrderPublic,
    Problem,
    ReleaseCreate,
)

router = APIRouter(prefix="/v1/orders", tags=["support"])

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]
ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such order"},
    409: {"model": Problem, "description": "Refused by the order; `detail` says why"},
    503: {"model": Problem, "description": "Temporal did not answer; retry"},
}


@router.post("/{order_id}/changes", responses=ANSWERS)
async def change_order(
    order_id: str,
    body: ChangeCreate,
    resources: ResourcesDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Change the shipping address (until shipped) and/or line quantities (until picked).

    Extra units are reserved and the payment re-authorized first; if either is refused, 409 and
    nothing changed. Fewer units are released at once."""
    order = await support.change_order(resources, session, order_id, body, idempotency_key)
    return to_order_public(order)


@router.post("/{order_id}/hold", responses=ANSWERS)
async def hold_order(
    order_id: str,
    body: HoldCreate,
    resources: ResourcesDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Stop the order before its next step (`on_hold`) until released; allowed until shipped."""
    order = await support.hold_order(resources, session, order_id, body, idempotency_key)
    return to_order_public(order)


@router.post("/{order_id}/release", responses=ANSWERS)
async def release_order(
    order_id: str,
    body: ReleaseCreate,
    resources: ResourcesDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Let a held order continue where it stopped."""
    order = await support.release_order(resources, session, order_id, body, idempotency_key)
    return to_order_public(order)


@router.post("/{order_id}/cancel", status_code=HTTPStatus.ACCEPTED, responses=ANSWERS)
async def cancel_order(
    order_id: str,
    body: CancelCreate,
    resources: ResourcesDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Cancel an order; it reaches `cancelled` once its steps are undone. 409 once it shipped."""
    order = await support.cancel_order(resources, session, order_id, body, idempotency_key)
    return to_order_public(order)


@router.get("/{order_id}/audit", responses={404: ANSWERS[404]})
async def order_audit(order_id: str, session: SessionDep) -> list[AuditPublic]:
    """Every support action on the order, accepted or refused, oldest first."""
    return [to_audit_public(row) for row in await support.audit_trail(session, order_id)]
