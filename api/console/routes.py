"""The console's order routes: search, an order's page, and one POST per support action.

Each declares the scope it needs (api/console/access.py): a user must be logged in, their role
must allow it, and every POST must carry the session's CSRF token. The action is recorded as the
logged-in user's (`user:<name>`).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.console import answers, forms, pages
from api.console import returns as console_returns
from api.console.access import console_grants
from api.console.answers import FormProblem
from api.deps import SessionDep, SettingsDep, SupportDep
from api.errors import OrderNotFound, Refused, SupportUnavailable
from api.support_service import SupportService
from db import notifications, store_credit
from db.models import OrderRecord
from db.orders import OrderRepository
from security.principal import Principal
from security.roles import Scope

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)

RESULTS = 50  # a search shows this many orders, newest first
ANSWERABLE = (
    Refused,
    SupportUnavailable,
    RequestValidationError,
    ValidationError,
    FormProblem,
)
Reader = Annotated[Principal, console_grants(Scope.ORDERS_READ)]
Changer = Annotated[Principal, console_grants(Scope.ORDERS_CHANGE)]
Canceller = Annotated[Principal, console_grants(Scope.ORDERS_CANCEL)]

Body = TypeVar("Body")
Act = Callable[[SupportService, str, Body, str | None, Principal], Awaitable[OrderRecord]]


@router.get("", dependencies=[console_grants(Scope.ORDERS_READ)])
async def search_page(
    request: Request, session: SessionDep, q: str = "", status: str = ""
) -> Response:
    """Orders whose id, customer id or email (any case) is `q`, of `status` if given."""
    text = q.replace("\x00", "").strip()[:254]
    wanted = status if status in pages.STATUSES else ""
    searched = bool(text or wanted)
    found = await OrderRepository(session).search(text or None, wanted or None, RESULTS)
    return pages.search(request, text, wanted, found, searched)


@router.get("/orders/{order_id}")
async def order_page(
    request: Request,
    order_id: str,
    session: SessionDep,
    settings: SettingsDep,
    support: SupportDep,
    caller: Reader,
) -> Response:
    """The order and its money, its customer e-mails, the forms the user's role may send, and
    the answer to their last action."""
    order = await OrderRepository(session).get_with_details(order_id)
    if order is None:
        return pages.not_found(request, "order", order_id)
    audit = await support.audit_trail(order_id, caller) if caller.may(Scope.AUDIT_READ) else None
    credit = None
    if caller.may(Scope.STORE_CREDIT_READ):
        credit = await store_credit.balances(session, order.customer_id)
    answer = answers.decode(request.cookies.get(answers.COOKIE), order_id)
    returns = await console_returns.of_order(session, order_id, caller)
    mails = None
    if caller.may(Scope.NOTIFICATIONS_READ):
        mails = await notifications.of_order(session, order_id)
    response = pages.order(request, order, audit, settings, answer, credit, returns, mails)
    if answer is not None:  # shown once
        response.delete_cookie(answers.COOKIE, path=pages.PREFIX)
    return response


@router.post("/orders/{order_id}/address")
async def change_address(
    request: Request, order_id: str, support: SupportDep, caller: Changer
) -> Response:
    """Send a new shipping address."""
    parts = (forms.change_address, SupportService.change)
    return await _perform(request, support, caller, order_id, "address change", *parts)


@router.post("/orders/{order_id}/lines")
async def change_lines(
    request: Request, order_id: str, support: SupportDep, caller: Changer
) -> Response:
    """Send the quantities the agent edited and the SKU they added."""
    parts = (forms.change_lines, SupportService.change)
    return await _perform(request, support, caller, order_id, "quantity change", *parts)


@router.post("/orders/{order_id}/hold")
async def hold(request: Request, order_id: str, support: SupportDep, caller: Changer) -> Response:
    """Hold the order before its next step."""
    parts = (forms.hold, SupportService.hold)
    return await _perform(request, support, caller, order_id, "hold", *parts)


@router.post("/orders/{order_id}/release")
async def release(
    request: Request, order_id: str, support: SupportDep, caller: Changer
) -> Response:
    """Release a held order."""
    parts = (forms.release, SupportService.release)
    return await _perform(request, support, caller, order_id, "release", *parts)


@router.post("/orders/{order_id}/cancel")
async def cancel(
    request: Request, order_id: str, support: SupportDep, caller: Canceller
) -> Response:
    """Cancel the order."""
    parts = (forms.cancel, SupportService.cancel)
    return await _perform(request, support, caller, order_id, "cancel", *parts)


async def _perform(
    request: Request,
    support: SupportService,
    caller: Principal,
    order_id: str,
    action: str,
    parse: Callable[[FormData], Body],
    act: Act[Body],
) -> Response:
    """Parse the form, act, and redirect to the order page, which shows the answer (PRG)."""
    form = await forms.read(request)
    try:
        order = await act(support, order_id, parse(form), forms.idempotency_key(form), caller)
    except OrderNotFound:
        return pages.not_found(request, "order", order_id)
    except ANSWERABLE as error:
        answer = answers.answer_for(order_id, action, error)
    else:
        answer = answers.accepted(order_id, action, order)
    # 303: the browser GETs the order page, so a reload shows it again but never re-posts.
    return answers.carry(RedirectResponse(pages.order_url(order_id), status_code=303), answer)
