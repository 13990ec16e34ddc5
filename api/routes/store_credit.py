"""A customer's store credit: balances and entries; goodwill credit granted by support."""

from http import HTTPStatus
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Path

from api.auth import grants
from api.deps import IdempotencyKey, SessionDep, SettingsDep
from api.errors import Conflict, NotFound, answers
from api.money_mapping import to_entry_public
from api.money_schemas import (
    BalancePublic,
    StoreCreditCreate,
    StoreCreditEntryPublic,
    StoreCreditPublic,
)
from db import books, store_credit
from db.orders import OrderRepository
from db.store_credit import CreditEntry, CreditKind
from security.principal import Principal
from security.roles import Scope

router = APIRouter(prefix="/v1/customers", tags=["store credit"])
CustomerPath = Annotated[str, Path(min_length=1, max_length=128)]


@router.get("/{customer_id}/store-credit", responses=answers({404: "Not a customer of yours"}))
async def get_store_credit(
    customer_id: CustomerPath,
    session: SessionDep,
    caller: Annotated[Principal, grants(Scope.STORE_CREDIT_READ)],
) -> StoreCreditPublic:
    """Balances per currency and the newest entries (issued, held, redeemed, released). A
    storefront key sees the customers who ordered on its channel."""
    if caller.channel is not None and not await OrderRepository(session).customer_in_channel(
        customer_id, caller.channel
    ):
        raise NotFound(f"customer {customer_id} not found")
    accounts = await store_credit.balances(session, customer_id)
    rows = await store_credit.entries(session, customer_id)
    return StoreCreditPublic(
        customer_id=customer_id,
        balances=[BalancePublic(currency=a.currency, balance=a.balance) for a in accounts],
        entries=[to_entry_public(row) for row in rows],
    )


@router.post(
    "/{customer_id}/store-credit",
    status_code=HTTPStatus.CREATED,
    responses=answers({409: "The Idempotency-Key was used for another credit"}),
)
async def grant_store_credit(
    customer_id: CustomerPath,
    body: StoreCreditCreate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Annotated[Principal, grants(Scope.STORE_CREDIT_ISSUE)],
    idempotency_key: IdempotencyKey = None,
) -> StoreCreditEntryPublic:
    """Goodwill credit for the customer (booked as an expense). With an `Idempotency-Key`, a
    retry answers the credit already granted."""
    key = f"goodwill:{customer_id}:{idempotency_key or uuid4()}"
    entry = CreditEntry(
        customer_id=customer_id,
        currency=body.currency,
        kind=CreditKind.ISSUED,
        amount=body.amount,
        key=key,
        reason=body.reason,
        actor=caller.actor,
    )
    record = await books.grant_goodwill(session, entry, settings)
    if (record.amount, record.currency, record.reason) != (body.amount, body.currency, body.reason):
        raise Conflict("this Idempotency-Key was already used for a different credit")
    await session.commit()
    return to_entry_public(record)
