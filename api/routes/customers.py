"""The customer view (what a CRM reads): orders, money spent, addresses, store credit."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import grants
from api.deps import SessionDep
from api.errors import NotFound, answers
from api.integration_mapping import to_customer_public
from api.integration_schemas import CustomerPublic, CustomersPublic
from api.schemas import Email
from db import customers
from db.orders import OrderRepository
from security.principal import Principal
from security.roles import Scope

router = APIRouter(prefix="/v1/customers", tags=["customers"])
ReadsCustomers = Annotated[Principal, grants(Scope.CUSTOMERS_READ)]


@router.get("/{customer_id}", responses=answers({404: "No such customer (of yours)"}))
async def get_customer(
    customer_id: Annotated[str, Path(min_length=1, max_length=128)],
    session: SessionDep,
    caller: ReadsCustomers,
) -> CustomerPublic:
    """One customer: contact, addresses, orders count, total spent per currency, first and last
    order, store credit. A storefront key sees the customers who ordered on its channel."""
    mine = caller.channel is None or await OrderRepository(session).customer_in_channel(
        customer_id, caller.channel
    )
    view = await customers.view_of(session, customer_id) if mine else None
    if view is None:
        raise NotFound(f"customer {customer_id} not found")
    return to_customer_public(view)


@router.get("")
async def list_customers(
    session: SessionDep,
    caller: ReadsCustomers,
    email: Annotated[Email | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomersPublic:
    """Customers by id (of one e-mail address, in any case, when given); follow `next_cursor`."""
    ids = await customers.page(session, email, cursor, limit + 1, caller.channel)
    page = ids[:limit]
    views = await customers.views(session, page)
    next_cursor = page[-1] if len(ids) > limit else None
    return CustomersPublic(items=[to_customer_public(v) for v in views], next_cursor=next_cursor)
