"""Claims: lost, broken in transit, or the wrong item, resolved at once without a return (a
refund, store credit, or a zero-priced reship order); and their reads."""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Response

from api.auth import grants
from api.deps import IdempotencyKey
from api.errors import answers
from api.return_schemas import ClaimCreate, ClaimPublic, ClaimsPublic
from api.routes.returns import Returns
from security.principal import Principal
from security.roles import Scope
from workflows.return_contracts import ReturnKind

router = APIRouter(tags=["claims"])
Reader = Annotated[Principal, grants(Scope.CLAIMS_READ)]


@router.post(
    "/v1/orders/{order_id}/claims",
    status_code=HTTPStatus.ACCEPTED,
    responses=answers(
        {
            404: "No such order",
            409: "Not shipped, more units than shipped less returned or claimed, more than is "
            "refundable, or the Idempotency-Key was used for another body",
        }
    ),
)
async def create_claim(
    order_id: str,
    body: ClaimCreate,
    response: Response,
    service: Returns,
    caller: Annotated[Principal, grants(Scope.CLAIMS_CREATE)],
    idempotency_key: IdempotencyKey = None,
) -> ClaimPublic:
    """Make good what went wrong in transit, once the order shipped (also before delivery was
    confirmed: a lost parcel). The refund is claimed (store credit completed at once) or the
    reship order placed in the same transaction; their workflows start after it."""
    claim = await service.claim(order_id, body, caller, idempotency_key)
    response.headers["Location"] = f"/v1/claims/{claim.id}"
    return (await service.claim_views([claim]))[0]


@router.get("/v1/orders/{order_id}/claims", responses=answers({404: "No such order"}))
async def list_order_claims(order_id: str, service: Returns, caller: Reader) -> ClaimsPublic:
    """The order's claims, oldest first."""
    rows = await service.of_order(order_id, caller, ReturnKind.CLAIM)
    return ClaimsPublic(items=await service.claim_views(rows))


@router.get("/v1/claims/{claim_id}", responses=answers({404: "No such claim"}))
async def get_claim(claim_id: str, service: Returns, caller: Reader) -> ClaimPublic:
    """One claim: its lines, its refund or its reship order."""
    return (await service.claim_views([await service.get_claim(claim_id, caller)]))[0]
