"""The console's routes: search, an order's page, and one POST per support action.

No authentication yet: anyone who reaches /console can act on any order. A later security issue
adds it (and, with it, CSRF protection for these forms); until then, do not expose /console.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.console import answers, forms, pages
from api.console.answers import Answer, FormProblem
from api.deps import SessionDep, SettingsDep, SupportDep
from api.errors import OrderNotFound, Refused, SupportUnavailable
from api.support_service import SupportService
from db.models import OrderRecord
from db.orders import OrderRepository

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)

RESULTS = 50  # a search shows this many orders, newest first
MAX_FIELDS = 400  # the quantity form has three fields per line, up to 100 lines
AGENT_COOKIE = "console_agent"
AGENT_MAX_AGE = 365 * 24 * 3600
ANSWERABLE = (
    Refused,
    SupportUnavailable,
    RequestValidationError,
    ValidationError,
    FormProblem,
)

Body = TypeVar("Body")
Act = Callable[[SupportService, str, Body, str | None], Awaitable[OrderRecord]]


@router.get("")
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
) -> Response:
    """The order, its forms, and the answer to the agent's last action on it."""
    order = await OrderRepository(session).get_with_details(order_id)
    if order is None:
        return pages.not_found(request, order_id)
    audit = await support.audit_trail(order_id)
    answer = answers.decode(request.cookies.get(answers.COOKIE), order_id)
    agent = unquote(request.cookies.get(AGENT_COOKIE, ""))[:128]
    response = pages.order(request, order, audit, settings, answer, agent)
    if answer is not None:  # shown once
        response.delete_cookie(answers.COOKIE, path=pages.PREFIX)
    return response


@router.post("/orders/{order_id}/address")
async def change_address(request: Request, order_id: str, support: SupportDep) -> Response:
    """Send a new shipping address."""
    parts = (forms.change_address, SupportService.change)
    return await _perform(request, support, order_id, "address change", *parts)


@router.post("/orders/{order_id}/lines")
async def change_lines(request: Request, order_id: str, support: SupportDep) -> Response:
    """Send the quantities the agent edited and the SKU they added."""
    parts = (forms.change_lines, SupportService.change)
    return await _perform(request, support, order_id, "quantity change", *parts)


@router.post("/orders/{order_id}/hold")
async def hold(request: Request, order_id: str, support: SupportDep) -> Response:
    """Hold the order before its next step."""
    parts = (forms.hold, SupportService.hold)
    return await _perform(request, support, order_id, "hold", *parts)


@router.post("/orders/{order_id}/release")
async def release(request: Request, order_id: str, support: SupportDep) -> Response:
    """Release a held order."""
    parts = (forms.release, SupportService.release)
    return await _perform(request, support, order_id, "release", *parts)


@router.post("/orders/{order_id}/cancel")
async def cancel(request: Request, order_id: str, support: SupportDep) -> Response:
    """Cancel the order."""
    parts = (forms.cancel, SupportService.cancel)
    return await _perform(request, support, order_id, "cancel", *parts)


async def _perform(
    request: Request,
    support: SupportService,
    order_id: str,
    action: str,
    parse: Callable[[FormData], Body],
    act: Act[Body],
) -> Response:
    """Parse the form, act, and redirect to the order page, which shows the answer (PRG)."""
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    try:
        order = await act(support, order_id, parse(form), forms.idempotency_key(form))
    except OrderNotFound:
        return pages.not_found(request, order_id)
    except ANSWERABLE as error:
        answer = answers.answer_for(order_id, action, error)
    else:
        answer = answers.accepted(order_id, action, order)
    return _back_to_order(order_id, answer, forms.agent(form))


def _back_to_order(order_id: str, answer: Answer, agent: str) -> Response:
    """303: the browser GETs the order page, so a reload shows it again but never re-posts."""
    response = RedirectResponse(pages.order_url(order_id), status_code=303)
    _set_cookie(response, answers.COOKIE, answers.encode(answer), answers.MAX_AGE)
    if agent:
        _set_cookie(response, AGENT_COOKIE, quote(agent), AGENT_MAX_AGE)
    return response


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    """Console cookies: for the console's pages only, and out of reach of scripts."""
    response.set_cookie(
        name, value, max_age=max_age, path=pages.PREFIX, httponly=True, samesite="lax"
    )
