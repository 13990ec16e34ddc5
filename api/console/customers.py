"""The console's customer page, for support, ops and admin (`customers:read`): the customer view
(db/customers.py, what GET /v1/customers/{id} shows), their newest orders, the returns and claims
of those orders, and their newest store credit entries.

Returns are shown to a role with `returns:read`, claims with `claims:read` too, store credit
entries with `store_credit:read`, as on an order's page. Every console role that reads customers
holds all three today; the checks keep the page right if a role changes.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.console import pages
from api.console.access import console_grants
from api.deps import SessionDep
from db import customers, store_credit
from db.models import OrderRecord, ReturnRecord
from db.orders import OrderRepository
from security.principal import Principal
from security.roles import Scope
from workflows.return_contracts import ReturnKind

ORDERS_SHOWN = 50  # the newest orders; the view counts them all
ENTRIES_SHOWN = 20  # the newest store credit entries
Reader = Annotated[Principal, console_grants(Scope.CUSTOMERS_READ)]

router = APIRouter(prefix=f"{pages.PREFIX}/customers", include_in_schema=False)


@router.get("/{customer_id}")
async def customer_page(
    request: Request, customer_id: str, session: SessionDep, caller: Reader
) -> Response:
    """One customer: contact, addresses, spending, store credit, orders, returns and claims."""
    view = await customers.view_of(session, customer_id)
    if view is None:
        return pages.not_found(request, "customer", customer_id)
    orders = await OrderRepository(session).page(None, customer_id, ORDERS_SHOWN, None)
    entries = None
    if caller.may(Scope.STORE_CREDIT_READ):
        entries = await store_credit.entries(session, customer_id, ENTRIES_SHOWN)
    context = {
        "customer": view,
        "first_order_at": _moment(view["first_order_at"]),
        "last_order_at": _moment(view["last_order_at"]),
        "orders": orders,
        "orders_shown": ORDERS_SHOWN,
        "returns": returns_of(orders, caller),
        "entries": entries,
        "entries_shown": ENTRIES_SHOWN,
    }
    return pages.render(request, "customer.html", context)


def returns_of(orders: Sequence[OrderRecord], caller: Principal) -> list[ReturnRecord] | None:
    """The orders' returns, and their claims if the role may read them, newest first; None for
    a role that may read neither (the orders' details are loaded: no query here)."""
    if not caller.may(Scope.RETURNS_READ):
        return None
    claims = caller.may(Scope.CLAIMS_READ)
    found = [
        record
        for order in orders
        for record in order.returns
        if claims or record.kind == ReturnKind.RETURN
    ]
    return sorted(found, key=lambda record: (record.created_at, record.id), reverse=True)


def _moment(iso: Any) -> datetime | None:
    """The view's times are ISO 8601 strings (as the API shows them); the page's `when` wants
    datetimes."""
    return None if iso is None else datetime.fromisoformat(str(iso))
