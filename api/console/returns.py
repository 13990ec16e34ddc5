"""The console's returns for support: the list of returns (waiting for a decision, waiting for
the parcel, recently finished), one return's or claim's page, and approving, declining or
cancelling a return from either.

Reading needs `returns:read` (support, ops, warehouse, admin), a claim's page also
`claims:read` (not the warehouse's); approving and declining need `returns:decide`, cancelling
`returns:cancel` (both support and admin), and only those see the forms.
Each action goes through api/return_service.py as the API's does, keyed by the form's
idempotency key (the same form sent twice is one action), as the logged-in user, who is the
actor of the return's history and of the order's audit trail.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.console import answers, forms, pages, return_pages
from api.console.access import ConsoleRefusal, console_grants
from api.console.answers import Answer, FormProblem
from api.console.forms import FormReader
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Conflict, NotFound, SupportUnavailable
from api.return_adapters import refunds_of
from api.return_schemas import ReturnDecisionCreate, ReturnDeclineCreate
from api.return_service import ReturnService
from db import returns as stored
from db.models import OrderRecord, ReturnRecord
from security.principal import Principal
from security.roles import Scope
from workflows.return_contracts import ReturnKind, ReturnStatus

router = APIRouter(prefix=f"{pages.PREFIX}/returns", include_in_schema=False)

LIST = "returns"  # what the list page's answers are about
ANSWERABLE = (Conflict, SupportUnavailable, RequestValidationError, ValidationError, FormProblem)
Reader = Annotated[Principal, console_grants(Scope.RETURNS_READ)]
Decider = Annotated[Principal, console_grants(Scope.RETURNS_DECIDE)]
Canceller = Annotated[Principal, console_grants(Scope.RETURNS_CANCEL)]
Act = Callable[[ReturnService, str, str | None, Principal, str | None], Awaitable[ReturnRecord]]


def get_return_service(
    session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> ReturnService:
    return ReturnService(session, temporal, settings)


ReturnsDep = Annotated[ReturnService, Depends(get_return_service)]


@router.get("", dependencies=[console_grants(Scope.RETURNS_READ)])
async def returns_page(request: Request, session: SessionDep) -> Response:
    """Returns waiting for support's decision, for their parcel, and the recently finished."""
    shown = return_pages.SHOWN
    requested = await stored.page(session, ReturnStatus.REQUESTED.value, shown, None)
    waiting = [
        found
        for status in return_pages.WAITING
        for found in await stored.page(session, status.value, shown, None)
    ]
    finished = [
        found
        for status in return_pages.FINISHED
        for found in await stored.page(session, status.value, shown, None)
    ]
    answer = answers.decode(request.cookies.get(answers.COOKIE), LIST)
    return return_pages.returns_list(
        request,
        requested,
        return_pages.newest_first(waiting),
        return_pages.newest_first(finished),
        answer,
    )


@router.get("/{return_id}")
async def return_page(
    request: Request, return_id: str, session: SessionDep, caller: Reader
) -> Response:
    """One return or claim: lines, resolution, label, money, the linked order, history."""
    record = await stored.get(session, return_id)
    if record is None:
        return pages.not_found(request, "return", return_id)
    if record.kind == ReturnKind.CLAIM and not caller.may(Scope.CLAIMS_READ):
        text = f"Your role ({caller.role.value}) does not allow this ({Scope.CLAIMS_READ.value})."
        raise ConsoleRefusal(403, "Not allowed", text)
    order = await session.get(OrderRecord, record.order_id)
    refund = (await refunds_of(session, [record.id])).get(record.id)
    answer = answers.decode(request.cookies.get(answers.COOKIE), about(record.id))
    return return_pages.return_detail(request, record, order, refund, answer)


@router.post("/{return_id}/approve")
async def approve(
    request: Request, return_id: str, returns: ReturnsDep, caller: Decider
) -> Response:
    """Approve a requested return: its label is issued next."""
    return await _decide(request, returns, caller, return_id, "approve", ReturnService.approve)


@router.post("/{return_id}/decline")
async def decline(
    request: Request, return_id: str, returns: ReturnsDep, caller: Decider
) -> Response:
    """Decline a requested return, saying why (the customer is told)."""
    return await _decide(request, returns, caller, return_id, "decline", ReturnService.decline)


@router.post("/{return_id}/cancel")
async def cancel(
    request: Request, return_id: str, returns: ReturnsDep, caller: Canceller
) -> Response:
    """Cancel a return before anything arrived: its label is voided."""
    return await _decide(request, returns, caller, return_id, "cancel", ReturnService.cancel)


async def of_order(
    session: AsyncSession, order_id: str, caller: Principal
) -> Sequence[ReturnRecord] | None:
    """What the order's page lists: its returns, and its claims if the role may read them;
    None for a role that may read neither."""
    if not caller.may(Scope.RETURNS_READ):
        return None
    found = await stored.of_order(session, order_id)
    claims = caller.may(Scope.CLAIMS_READ)
    return [record for record in found if claims or record.kind == ReturnKind.RETURN]


def about(return_id: str) -> str:
    """What a return page's answers are about."""
    return f"return:{return_id}"


def decision_reason(form: FormData, required: bool) -> str | None:
    """The reason typed in the form: a decline's is required, an approval's optional."""
    read = FormReader(form)
    text = read.text("reason")
    read.check()
    if required:
        return ReturnDeclineCreate.model_validate({"reason": text}).reason
    return ReturnDecisionCreate.model_validate({"reason": text or None}).reason


async def _decide(
    request: Request,
    returns: ReturnService,
    caller: Principal,
    return_id: str,
    action: str,
    act: Act,
) -> Response:
    """Parse the form, act, and redirect to the page it was sent from, which shows the answer
    (Post/Redirect/Get)."""
    form = await forms.read(request)
    from_list = form.get("from") == LIST
    shown_on = LIST if from_list else about(return_id)
    try:
        reason = decision_reason(form, required=action == "decline")
        record = await act(returns, return_id, reason, caller, forms.idempotency_key(form))
    except NotFound:
        return pages.not_found(request, "return", return_id)
    except ANSWERABLE as error:
        answer = answers.answer_for(shown_on, action, error)
    else:
        text = f"Accepted: {action} of return {record.id}. It is {record.status} now."
        answer = Answer(about=shown_on, kind="accepted", text=text)
    back = f"{pages.PREFIX}/returns" if from_list else pages.return_url(return_id)
    return answers.carry(RedirectResponse(back, status_code=303), answer)
