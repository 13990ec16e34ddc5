"""The console's pages: one Jinja2 environment (autoescape on for every template) and what each
page is given to show. Templates only lay out; every decision about the data is made here."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args
from urllib.parse import quote
from uuid import uuid4

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.console.answers import Answer
from api.schemas import HoldReason
from db.models import AuditRecord, OrderRecord
from settings import Settings
from workflows.contracts import OrderStatus, order_workflow_id
from workflows.rules import TERMINAL, format_money

PREFIX = "/console"
STATUSES = [status.value for status in OrderStatus]
HOLD_REASONS: tuple[str, ...] = get_args(HoldReason)
FORMS = ("address", "lines", "hold", "release", "cancel")
NO_STORE = {"Cache-Control": "no-store"}  # a page shown again from history would be stale


def order_url(order_id: str) -> str:
    """The order's console page (ids are quoted: they come from the database or from a URL)."""
    return f"{PREFIX}/orders/{quote(order_id, safe='')}"


def temporal_url(settings: Settings, order_id: str) -> str:
    """The order's workflow in the Temporal UI."""
    base = settings.temporal_ui_url.rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{namespace}/workflows/{quote(order_workflow_id(order_id), safe='')}"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every template, whatever its name: agents see customer-typed text
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently
    )
    env.filters |= {"money": format_money, "when": _when, "order_url": order_url}
    return env


templates = Jinja2Templates(env=_environment())


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
    return templates.TemplateResponse(request, "search.html", context, headers=NO_STORE)


def order(
    request: Request,
    order: OrderRecord,
    audit: Sequence[AuditRecord],
    settings: Settings,
    answer: Answer | None,
    agent: str,
) -> Response:
    """One order with its forms; each form gets a fresh idempotency key per rendering."""
    context = {
        "order": order,
        "audit": audit,
        "answer": answer,
        "agent": agent,
        "final": order.status in TERMINAL,
        "held": order.status == OrderStatus.ON_HOLD,
        "temporal_url": temporal_url(settings, order.id),
        "hold_reasons": HOLD_REASONS,
        "keys": {form: uuid4().hex for form in FORMS},
    }
    return templates.TemplateResponse(request, "order.html", context, headers=NO_STORE)


def not_found(request: Request, order_id: str) -> Response:
    context = {"order_id": order_id}
    return templates.TemplateResponse(request, "not_found.html", context, status_code=404)
