"""The console's money: refund an order from its page, and read its invoices' PDFs.

Refunding needs `refunds:create` (support, admin), and only those see the form; it claims and
starts the refund exactly as POST /v1/orders/{id}/refunds does (api/refund_service.py's
`claim_and_start`), keyed by the form's idempotency key, so the same form sent twice is one
refund. A PDF needs `invoices:read` and is the API's PDF, downloaded.
"""

import re
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from api.console import answers, forms, pages
from api.console.access import console_grants
from api.console.answers import Answer, FormProblem
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import Conflict, OrderNotFound, SupportUnavailable
from api.refund_service import RefundNotStarted, claim_and_start
from db import documents
from db.models import OrderRecord, RefundRecord
from money.facturx import invoice_pdf
from security.principal import Principal
from security.roles import Scope
from workflows.money_contracts import RefundStatus
from workflows.rules import format_money

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)

ACTION = "refund"
NUMBER = re.compile(r"[A-Z]{1,8}-[0-9]{4}-[0-9]{1,20}")  # INV-2026-000001, CN-…
ANSWERABLE = (Conflict, SupportUnavailable, RequestValidationError, ValidationError, FormProblem)
GIVEN = {"original_payment": "to the original payment", "store_credit": "as store credit"}
Refunder = Annotated[Principal, console_grants(Scope.REFUNDS_CREATE)]


@router.post("/orders/{order_id}/refunds")
async def refund(
    request: Request,
    order_id: str,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Refunder,
) -> Response:
    """Give money back: an amount or units, to the original payment or as store credit."""
    order = await session.get(OrderRecord, order_id)
    if order is None:
        return pages.not_found(request, "order", order_id)
    form = await forms.read(request)
    try:
        body = forms.refund(form, order.currency)
        key = forms.idempotency_key(form)
        given = await claim_and_start(
            session, temporal, settings.task_queue, order_id, body, caller, key
        )
    except OrderNotFound:
        return pages.not_found(request, "order", order_id)
    except RefundNotStarted as late:  # claimed: it counts, and starts within a minute
        text = (
            f"Claimed: refund {late.refund_id}, but the workflow service did not answer: "
            "it starts within a minute. Reload to see it."
        )
        answer = Answer(about=order_id, kind="unavailable", text=text)
    except ANSWERABLE as error:
        answer = answers.answer_for(order_id, ACTION, error)
    else:
        answer = Answer(about=order_id, kind="accepted", text=accepted_text(given))
    # 303: the browser GETs the order page, so a reload shows it again but never re-posts.
    return answers.carry(RedirectResponse(pages.order_url(order_id), status_code=303), answer)


def accepted_text(refund: RefundRecord) -> str:
    """`Accepted: refund of 19.99 EUR as store credit. It is pending: …`."""
    money = format_money(refund.amount, refund.currency)
    text = f"Accepted: refund of {money} {GIVEN.get(refund.method, refund.method)}."
    if refund.status == RefundStatus.PENDING:
        return f"{text} It is pending: reload in a moment to see it done."
    return f"{text} It is {refund.status} now."


@router.get("/invoices/{number}.pdf", dependencies=[console_grants(Scope.INVOICES_READ)])
async def invoice_pdf_file(request: Request, number: str, session: SessionDep) -> Response:
    """The invoice or credit note as the API's PDF (Factur-X: its EN 16931 XML inside)."""
    found = await documents.get(session, number) if NUMBER.fullmatch(number) else None
    if found is None:
        return pages.not_found(request, "invoice or credit note", number)
    # Building the PDF takes CPU time: off the event loop, so other requests go on meanwhile.
    pdf = await run_in_threadpool(invoice_pdf, documents.to_document(found))
    # An attachment, where the API's is inline: Chrome's PDF viewer is an <embed>, which the
    # console's `default-src 'none'` blocks (crbug.com/271452). A download opens anywhere.
    disposition = f'attachment; filename="{found.number}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
