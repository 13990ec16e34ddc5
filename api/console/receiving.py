"""The warehouse's receiving page: find a return by its id or by the tracking number on the
parcel, see what it expects and what arrived so far, and enter per line the units received as
resellable and as damaged.

Both need `returns:receive` (warehouse, admin). A receipt goes to the return's workflow through
api/return_service.py as POST /v1/returns/{id}/receive does, keyed by the form's idempotency
key (the same form sent twice is one receipt), as the logged-in user; the workflow's refusal
(more than expected, not waiting for a parcel) is shown on the page with its reason.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.console import answers, forms, pages, return_pages
from api.console.access import console_grants
from api.console.answers import Answer, FormProblem
from api.console.forms import FormReader
from api.console.returns import ANSWERABLE, ReturnsDep
from api.deps import SessionDep
from api.errors import NotFound
from api.return_schemas import ReceiptCreate, ReceiptLine
from db import returns as stored
from db.models import ReturnRecord
from security.principal import Principal
from security.roles import Scope
from workflows.return_contracts import Condition, ReturnKind

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)

ACTION = "receipt"
Receiver = Annotated[Principal, console_grants(Scope.RETURNS_RECEIVE)]


@router.get("/receiving", dependencies=[console_grants(Scope.RETURNS_RECEIVE)])
async def receiving_page(request: Request, session: SessionDep, q: str = "") -> Response:
    """The return whose id or label's tracking number is `q`, with the receipt form."""
    text = q.replace("\x00", "").strip()[:255]
    record = await find(session, text) if text else None
    answer = None
    if record is not None:
        answer = answers.decode(request.cookies.get(answers.COOKIE), about(record.id))
    return return_pages.receiving(request, text, record, answer)


@router.post("/returns/{return_id}/receive")
async def receive(
    request: Request,
    return_id: str,
    returns: ReturnsDep,
    caller: Receiver,
    background: BackgroundTasks,
) -> Response:
    """Book what arrived; the page shows the answer and the return as it is now. Orders
    backordered on a restocked SKU wake after the answer."""
    form = await forms.read(request)
    try:
        lines = receipt(form)
        key = forms.idempotency_key(form)
        record = await returns.receive(return_id, lines, caller, key, background)
    except NotFound:
        return pages.not_found(request, "return", return_id)
    except ANSWERABLE as error:
        answer = answers.answer_for(about(return_id), ACTION, error)
    else:
        text = f"Accepted: received {described(lines)}. The return is {record.status} now."
        answer = Answer(about=about(return_id), kind="accepted", text=text)
    back = RedirectResponse(pages.receiving_url(return_id), status_code=303)
    return answers.carry(back, answer)


async def find(session: AsyncSession, text: str) -> ReturnRecord | None:
    """The return with this id, else the one whose label has this tracking number (claims
    bring nothing back: they are never received)."""
    record = await stored.get(session, text) or await stored.by_tracking_number(session, text)
    return record if record is not None and record.kind == ReturnKind.RETURN else None


def about(return_id: str) -> str:
    """What the receiving page's answers are about."""
    return f"receiving:{return_id}"


def receipt(form: FormData) -> list[ReceiptLine]:
    """Per line of the page, the units typed as resellable and as damaged; empty or 0 is none."""
    read = FormReader(form)
    skus = read.texts("sku")
    typed = {condition: read.texts(condition.value) for condition in Condition}
    if any(len(texts) != len(skus) for texts in typed.values()):
        raise FormProblem(["the form does not match the return's lines: reload the page"])
    lines: list[dict[str, Any]] = []
    for no, sku in enumerate(skus):
        for condition, texts in typed.items():
            text = texts[no]
            quantity = read.number(text, f"{condition.value} units of {sku}") if text else 0
            if quantity:
                lines.append({"sku": sku, "quantity": quantity, "condition": condition.value})
    if not lines and not read.problems:
        read.problems.append("nothing received: enter the units that arrived")
    read.check()
    return ReceiptCreate.model_validate({"lines": lines}).lines


def described(lines: Sequence[ReceiptLine]) -> str:
    """`1 × SKU-A resellable, 1 × SKU-A damaged`."""
    counted = Counter[tuple[str, str]]()
    for line in lines:
        counted[(line.sku, line.condition)] += line.quantity
    return ", ".join(f"{n} × {sku} {condition}" for (sku, condition), n in counted.items())
