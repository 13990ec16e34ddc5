"""What the console's return pages show: the support list (waiting for a decision, waiting for
the parcel, recently finished), one return's or claim's page, and the warehouse's receiving page.
Every decision about the data is made here; the templates only lay it out.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import uuid4

from fastapi import Request
from starlette.responses import Response

from api.console import answers, pages
from api.console.answers import Answer
from db.models import OrderRecord, RefundRecord, ReturnLineRecord, ReturnRecord
from security.roles import Scope
from workflows.return_contracts import RETURN_TERMINAL, ReturnKind, ReturnStatus

S = ReturnStatus
SHOWN = 50  # each list shows its newest returns
WAITING = (S.APPROVED, S.AWAITING_RECEIPT)  # approved: its label is being issued
FINISHED = (S.RECEIVED, S.COMPLETED, S.DECLINED, S.EXPIRED, S.CANCELLED)
DECIDABLE = frozenset({S.REQUESTED})
RECEIVABLE = frozenset({S.AWAITING_RECEIPT})
CANCELLABLE = frozenset({S.REQUESTED, S.APPROVED, S.AWAITING_RECEIPT})  # before anything arrived
RESOLUTIONS = {
    "refund": "refund to the original payment",
    "store_credit": "store credit",
    "exchange": "exchange",
    "reship": "reship",
}
SCOPES = {
    "returns_read": Scope.RETURNS_READ.value,
    "returns_decide": Scope.RETURNS_DECIDE.value,
    "returns_receive": Scope.RETURNS_RECEIVE.value,
    "returns_cancel": Scope.RETURNS_CANCEL.value,
    "claims_read": Scope.CLAIMS_READ.value,
}


@dataclass(frozen=True, kw_only=True)
class LineView:
    """One line as the pages show it: asked back, arrived (by condition), still expected."""

    sku: str
    quantity: int
    unit_price: int
    reason: str
    note: str | None
    resellable: int
    damaged: int
    received: int
    left: int
    condition: str  # "resellable", "damaged", "1 resellable, 1 damaged", or ""


def line_view(line: ReturnLineRecord) -> LineView:
    received = line.resellable + line.damaged
    if line.resellable and line.damaged:
        condition = f"{line.resellable} resellable, {line.damaged} damaged"
    else:
        condition = "resellable" if line.resellable else "damaged" if line.damaged else ""
    return LineView(
        sku=line.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        reason=line.reason,
        note=line.note,
        resellable=line.resellable,
        damaged=line.damaged,
        received=received,
        left=max(line.quantity - received, 0),
        condition=condition,
    )


def units(record: ReturnRecord) -> str:
    """`2 × SKU-A, 1 × SKU-B`."""
    return ", ".join(f"{line.quantity} × {line.sku}" for line in record.lines)


def newest_first(records: Sequence[ReturnRecord], limit: int = SHOWN) -> list[ReturnRecord]:
    """Returns of several statuses as one list, the most recently changed first."""
    ordered = sorted(records, key=lambda record: (record.updated_at, record.id), reverse=True)
    return ordered[:limit]


def _context(answer: Answer | None) -> dict[str, object]:
    return {
        "answer": answer,
        "resolutions": RESOLUTIONS,
        "units": units,
        **SCOPES,
    }


def _shown_once(request: Request, name: str, context: dict[str, object]) -> Response:
    response = pages.render(request, name, context)
    if context.get("answer") is not None:  # shown once
        response.delete_cookie(answers.COOKIE, path=pages.PREFIX)
    return response


def returns_list(
    request: Request,
    requested: Sequence[ReturnRecord],
    waiting: Sequence[ReturnRecord],
    finished: Sequence[ReturnRecord],
    answer: Answer | None,
) -> Response:
    """The three lists; each requested return gets fresh keys for its approve and decline."""
    context = _context(answer) | {
        "requested": requested,
        "waiting": waiting,
        "finished": finished,
        "keys": {record.id: (uuid4().hex, uuid4().hex) for record in requested},
        "shown_count": SHOWN,
    }
    return _shown_once(request, "returns.html", context)


def return_detail(
    request: Request,
    record: ReturnRecord,
    order: OrderRecord | None,
    refund: RefundRecord | None,
    answer: Answer | None,
) -> Response:
    """One return or claim: its lines, resolution, label, money, linked order and history."""
    status = ReturnStatus(record.status)
    lines = [line_view(line) for line in record.lines]
    claim = record.kind == ReturnKind.CLAIM
    context = _context(answer) | {
        "record": record,
        "claim": claim,
        "noun": "Claim" if claim else "Return",
        "finished": status in RETURN_TERMINAL,
        "lines": lines,
        "currency": order.currency if order is not None else "",
        "refund": refund,
        "decidable": status in DECIDABLE,
        "receivable": status in RECEIVABLE,
        "cancellable": not claim
        and status in CANCELLABLE
        and not any(line.received for line in lines),
        "keys": {form: uuid4().hex for form in ("approve", "decline", "cancel")},
    }
    return _shown_once(request, "return.html", context)


def receiving(
    request: Request, text: str, record: ReturnRecord | None, answer: Answer | None
) -> Response:
    """The search box and, once found, the return's lines with the receipt form."""
    status = None if record is None else ReturnStatus(record.status)
    context = _context(answer) | {
        "text": text,
        "record": record,
        "lines": [] if record is None else [line_view(line) for line in record.lines],
        "receivable": status in RECEIVABLE,
        "key": uuid4().hex,
    }
    return _shown_once(request, "receiving.html", context)
