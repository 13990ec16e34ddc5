"""The console's pages: one Jinja2 environment (autoescape on for every template) and what each
page is given to show. Templates only lay out; every decision about the data is made here.

Every page also gets `me`, the logged-in session (api/console/access.py's SignedIn) or None:
its user, `me.may("scope")` to offer only what the role allows, and `me.csrf` for its forms.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote
from uuid import uuid4

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.console.answers import Answer
from api.schemas import HoldReason
from db.models import (
    AuditRecord,
    NotificationRecord,
    OrderRecord,
    ReturnRecord,
    StoreCreditAccountRecord,
)
from db.refunds import OPEN
from money.documents import DocumentKind
from security.roles import Scope
from settings import Settings
from workflows.contracts import OrderStatus, order_workflow_id
from workflows.money_contracts import RefundMethod
from workflows.rules import TERMINAL, ZERO_DECIMAL_CURRENCIES, format_money

PREFIX = "/console"
STATUSES = [status.value for status in OrderStatus]
HOLD_REASONS: tuple[str, ...] = get_args(HoldReason)
FORMS = ("address", "lines", "hold", "release", "cancel", "refund")
REFUND_METHODS = {
    RefundMethod.ORIGINAL_PAYMENT.value: "Original payment (card)",
    RefundMethod.STORE_CREDIT.value: "Store credit",
}
NO_STORE = {"Cache-Control": "no-store"}  # a page shown again from history would be stale


def order_url(order_id: str) -> str:
    """The order's console page (ids are quoted: they come from the database or from a URL)."""
    return f"{PREFIX}/orders/{quote(order_id, safe='')}"


def pdf_url(number: str) -> str:
    """An invoice's or credit note's PDF."""
    return f"{PREFIX}/invoices/{quote(number, safe='')}.pdf"


def sku_url(sku: str) -> str:
    """The SKU's inventory page."""
    return f"{PREFIX}/inventory/{quote(sku, safe='')}"


def return_url(return_id: str) -> str:
    """A return's or claim's page."""
    return f"{PREFIX}/returns/{quote(return_id, safe='')}"


def receiving_url(return_id: str) -> str:
    """The warehouse's receiving page, on this return."""
    return f"{PREFIX}/receiving?q={quote(return_id, safe='')}"


def customer_url(customer_id: str) -> str:
    """The customer's page."""
    return f"{PREFIX}/customers/{quote(customer_id, safe='')}"


def temporal_url(settings: Settings, order_id: str) -> str:
    """The order's workflow in the Temporal UI."""
    base = settings.temporal_ui_url.rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{namespace}/workflows/{quote(order_workflow_id(order_id), safe='')}"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every template, whatever its name: agents see customer-typed text
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently
    )
    env.filters |= {
        "money": format_money,
        "when": _when,
        "order_url": order_url,
        "sku_url": sku_url,
        "pdf_url": pdf_url,
        "return_url": return_url,
        "receiving_url": receiving_url,
        "customer_url": customer_url,
    }
    return env


def _signed_in(request: Request) -> dict[str, Any]:
    """Who is logged in, for the header, the role's offers and the forms' CSRF field."""
    return {"me": getattr(request.state, "console", None)}


templates = Jinja2Templates(env=_environment(), context_processors=[_signed_in])


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page; never stored by the browser or a proxy (it is one user's, and changes)."""
    return templates.TemplateResponse(
        request,
        name,
        dict(context),
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


def search(
    request: Request, text: str, status: str, orders: Sequence[OrderRecord], searched: bool
) -> Response:
    """The search box and its results (the newest orders before anything is searched)."""
    context = {
        "text": text,
        "status": status,
        "statuses": STATUSES,
        "orders": orders,
        "searched": searched,
    }
    return render(request, "search.html", context)


@dataclass(frozen=True, kw_only=True)
class Refundable:
    """What the refund form offers: the sum not yet refunded or being refunded, the card's
    part of it, and the units of each SKU. Only a hint: the claim decides (db/refunds.py)."""

    amount: int
    card: int
    units: dict[str, int]


def refundable(order: OrderRecord) -> Refundable | None:
    """None until something is captured (the order has no invoice yet)."""
    invoice = next((d for d in order.documents if d.kind == DocumentKind.INVOICE), None)
    if invoice is None:
        return None
    claimed = [refund for refund in order.refunds if refund.status in OPEN]
    units = Counter[str]()
    for refund in claimed:
        units.update({line["sku"]: int(line["quantity"]) for line in refund.lines})
    amount = invoice.total - sum(refund.amount for refund in claimed)
    to_card = sum(r.amount for r in claimed if r.method == RefundMethod.ORIGINAL_PAYMENT)
    return Refundable(
        amount=amount,
        card=min(amount, invoice.paid_card - to_card),  # the card gets back no more than it paid
        units={line.sku: max(line.quantity - units[line.sku], 0) for line in order.lines},
    )


def order(
    request: Request,
    order: OrderRecord,
    audit: Sequence[AuditRecord] | None,
    settings: Settings,
    answer: Answer | None,
    credit: Sequence[StoreCreditAccountRecord] | None = None,
    returns: Sequence[ReturnRecord] | None = None,
    notifications: Sequence[NotificationRecord] | None = None,
) -> Response:
    """One order with the forms the user's role may send; each form gets a fresh idempotency
    key per rendering. `audit` is None for a role that may not read the audit trail, `credit`
    (the customer's store credit balances) for one that may not read store credit, `returns`
    (its returns and the claims the role may read) for one that may read neither,
    `notifications` (the customer e-mails it sent) for one that may not read them."""
    context = {
        "order": order,
        "audit": audit,
        "answer": answer,
        "final": order.status in TERMINAL,
        "held": order.status == OrderStatus.ON_HOLD,
        "temporal_url": temporal_url(settings, order.id),
        "hold_reasons": HOLD_REASONS,
        "keys": {form: uuid4().hex for form in FORMS},
        "change": Scope.ORDERS_CHANGE.value,
        "cancel": Scope.ORDERS_CANCEL.value,
        "refunds_create": Scope.REFUNDS_CREATE.value,
        "refunds_read": Scope.REFUNDS_READ.value,
        "invoices_read": Scope.INVOICES_READ.value,
        "refundable": refundable(order),
        "refund_methods": REFUND_METHODS,
        "whole_units": order.currency in ZERO_DECIMAL_CURRENCIES,
        "credit": credit,
        "returns": returns,
        "notifications": notifications,
        "customers_read": Scope.CUSTOMERS_READ.value,
    }
    return render(request, "order.html", context)


def not_found(request: Request, what: str, name: str) -> Response:
    """`No order has the id …` / `No SKU …`: a 404 page."""
    return render(request, "not_found.html", {"what": what, "name": name}, status_code=404)


def refused(
    request: Request, status_code: int, title: str, text: str, retry_after: int | None = None
) -> Response:
    """Why not: a 403 (the role, a CSRF token) or a 429 (too many failed logins)."""
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    context = {"title": title, "text": text}
    return render(request, "refused.html", context, status_code=status_code, headers=headers)
