"""What the order (or the stock) said to an action, carried across the redirect after the POST.

Post/Redirect/Get: the POST answers 303 to the page, so a reload never re-sends the form. The
answer rides in a short-lived cookie (base64url JSON: cookies take ASCII only) scoped to the
console; the page shows it once, for what it is `about` only (an order id, or `sku:<SKU>`), and
deletes it.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from api.errors import Conflict, SupportUnavailable
from db.models import OrderRecord
from workflows.contracts import OrderStatus, SupportAction

COOKIE = "console_answer"
MAX_AGE = 60  # seconds: long enough for the redirect, short enough to never show a stale answer
MAX_DETAILS = 10  # a cookie holds about 4 KB
MAX_CHARS = 200

Kind = Literal["accepted", "refused", "invalid", "unavailable"]


class FormProblem(ValueError):
    """Form input that cannot become a request (not a number, a NUL character...)."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One line for the agent (`text`), the field errors under it, and what it is about."""

    about: str
    kind: Kind
    text: str
    details: list[str] = field(default_factory=list)


def accepted(order_id: str, action: str, order: OrderRecord) -> Answer:
    """The order took the action; its status as the read model shows it right now."""
    text = f"Accepted: {action}. The order is {order.status} now."
    if action == SupportAction.CANCEL and order.status != OrderStatus.CANCELLED:
        text += " It shows cancelled once its steps are undone: reload in a moment."
    return Answer(about=order_id, kind="accepted", text=text)


AnswerableError = (
    Conflict | SupportUnavailable | RequestValidationError | ValidationError | FormProblem
)


def answer_for(about: str, action: str, error: AnswerableError) -> Answer:
    """What the agent reads when the action did not go through, and why: a Conflict is the
    order's (or its money's) refusal, as Refused is the workflow's."""
    if isinstance(error, Conflict):
        return Answer(about=about, kind="refused", text=f"Refused: {error.reason}")
    if isinstance(error, SupportUnavailable):
        return Answer(about=about, kind="unavailable", text=f"Not done: {error}")
    if isinstance(error, FormProblem):
        details = error.messages
    else:
        details = [
            _describe(entry.get("loc", ()), entry.get("msg", "")) for entry in error.errors()
        ]
    text = f"Not sent: the {action} form needs fixing."
    return Answer(about=about, kind="invalid", text=text, details=details)


def _describe(loc: Iterable[object], msg: object) -> str:
    """`lines › line 2 › quantity: Input should be ...`: where, in the form's words, and what."""
    parts = [f"line {part + 1}" if isinstance(part, int) else str(part) for part in loc]
    where = " › ".join(part for part in parts if part != "body")
    return f"{where}: {msg}" if where else str(msg)


def encode(answer: Answer) -> str:
    """The cookie value; long details are cut so that it always fits in a cookie."""
    short = Answer(
        about=answer.about,
        kind=answer.kind,
        text=answer.text[:MAX_CHARS],
        details=[detail[:MAX_CHARS] for detail in answer.details[:MAX_DETAILS]],
    )
    return base64.urlsafe_b64encode(json.dumps(asdict(short)).encode()).decode()


def decode(value: str | None, about: str) -> Answer | None:
    """The answer about this page's order or SKU, or None (no cookie, another's, not ours)."""
    if not value:
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(value.encode()))
        answer = Answer(**fields)
    except (binascii.Error, ValueError, TypeError):
        return None
    well_formed = isinstance(answer.details, list) and all(
        isinstance(item, str) for item in (answer.text, answer.kind, *answer.details)
    )
    return answer if well_formed and answer.about == about else None


def carry(response: Response, answer: Answer) -> Response:
    """Put the answer on the redirect: for the console's pages only, out of reach of scripts."""
    response.set_cookie(
        COOKIE, encode(answer), max_age=MAX_AGE, path="/console", httponly=True, samesite="lax"
    )
    return response
