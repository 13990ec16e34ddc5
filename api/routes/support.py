"""Support actions on an order: change, hold, release, cancel, and their audit trail.

Each answers synchronously with the workflow's decision: 200 (202 for cancel) with the order as
it is now, 409 with the reason it was refused, 422 for a request that cannot apply to the order.
An `Idempotency-Key` makes a retried request the same action (Temporal's update id).
"""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter

from api.auth import grants
from api.deps import IdempotencyKey, SupportDep
from api.errors import answers
from api.mapping import to_audit_public, to_order_public
from api.schemas import (
    AuditPublic,
    CancelCreate,
    ChangeCreate,
    HoldCreate,
    OrderPublic,
    ReleaseCreate,
)
from security.principal import Principal
from security.roles import Scope

Changer = Annotated[Principal, grants(Scope.ORDERS_CHANGE)]

router = APIRouter(prefix="/v1/orders", tags=["support"])

NOT_FOUND = {404: "No such order"}
ANSWERS = answers(
    {
        **NOT_FOUND,
        409: "Refused by the order; `detail` says why",
        503: "Temporal did not answer; retry",
    }
)


@router.post("/{order_id}/changes", responses=ANSWERS)
async def change_order(
    order_id: str,
    body: ChangeCreate,
    support: SupportDep,
    caller: Changer,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Change the shipping address (until shipped) and/or line quantities (until picked).

    Extra units are reserved and the payment re-authorized first; if either is refused, 409 and
    nothing changed. Fewer units are released at once."""
    return to_order_public(await support.change(order_id, body, idempotency_key, caller))


@router.post("/{order_id}/hold", responses=ANSWERS)
async def hold_order(
    order_id: str,
    body: HoldCreate,
    support: SupportDep,
    caller: Changer,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Stop the order before its next step (`on_hold`) until released; allowed until shipped."""
    return to_order_public(await support.hold(order_id, body, idempotency_key, caller))


@router.post("/{order_id}/release", responses=ANSWERS)
async def release_order(
    order_id: str,
    body: ReleaseCreate,
    support: SupportDep,
    caller: Changer,
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Let a held order continue where it stopped."""
    return to_order_public(await support.release(order_id, body, idempotency_key, caller))


@router.post("/{order_id}/cancel", status_code=HTTPStatus.ACCEPTED, responses=ANSWERS)
async def cancel_order(
    order_id: str,
    body: CancelCreate,
    support: SupportDep,
    caller: Annotated[Principal, grants(Scope.ORDERS_CANCEL)],
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Cancel an order; it reaches `cancelled` once its steps are undone. 409 once it shipped.

    A storefront key cancels its own channel's orders only."""
    return to_order_public(await support.cancel(order_id, body, idempotency_key, caller))


@router.get("/{order_id}/audit", responses=answers(NOT_FOUND))
async def order_audit(
    order_id: str, support: SupportDep, caller: Annotated[Principal, grants(Scope.AUDIT_READ)]
) -> list[AuditPublic]:
    """Every support action on the order, accepted or refused, oldest first."""
    return [to_audit_public(row) for row in await support.audit_trail(order_id, caller)]
