"""Support actions on an order (change, hold, release, cancel), shared by the API and the console.

Each one is a Temporal Update on the order's workflow, which accepts or refuses it synchronously.
The workflow writes the audit row of every action it handled; refusals it never saw (its
validator said no, or it is not running) are written here. Both write by (request_id, outcome),
so a retried request never writes twice. Passing the same `idempotency_key` again reuses the
update id, and Temporal answers a finished update with its first outcome.

The service reaches the world through two narrow interfaces, `SupportRecords` (the database) and
`OrderUpdates` (Temporal), so its decisions are unit-tested against stand-ins.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import uuid4

from api import schemas as http
from api.errors import OrderNotFound, Refused, SupportUnavailable, field_error, invalid
from api.mapping import (
    to_cancel_request,
    to_change_request,
    to_hold_request,
    to_release_request,
)
from db.models import AuditRecord, OrderRecord
from db.orders import OrderHead
from security.principal import Principal
from workflows.contracts import (
    AuditOutcome,
    RecordAuditInput,
    SupportAction,
    SupportRequest,
    asked,
    asked_json,
)
from workflows.rules import TERMINAL


class WorkflowNotRunning(Exception):
    """The order's workflow is closed, or was never started."""


class OrderUpdates(Protocol):
    """Sends a support request to the order's workflow as the Update named by `action`."""

    async def send(self, order_id: str, action: SupportAction, request: SupportRequest) -> None:
        """Wait for the workflow's answer: Refused (it said no, and why), WorkflowNotRunning, or
        SupportUnavailable (Temporal did not answer: the action may still apply)."""
        ...


class SupportRecords(Protocol):
    """What the service reads and writes in the database."""

    async def order(self, order_id: str) -> OrderRecord | None:
        """The order as committed now, with its lines, history and shipments."""
        ...

    async def head(self, order_id: str) -> OrderHead | None:
        """The order's status and channel as committed now; None when there is no such order."""
        ...

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]: ...

    async def requests_of(self, request_id: str) -> list[dict[str, object]]:
        """What was asked under this request id before, once per outcome written."""
        ...

    async def audit(self, record: RecordAuditInput) -> None:
        """Write one outcome (in a transaction of its own); written again it is a no-op."""
        ...

    async def audit_trail(self, order_id: str) -> Sequence[AuditRecord]: ...


class SupportService:
    """The support actions of one request: each checked, sent, audited when refused."""

    def __init__(self, records: SupportRecords, updates: OrderUpdates) -> None:
        self._records, self._updates = records, updates

    # Each action is the caller's: recorded as theirs, and an order of a channel they do not
    # see is, to them, no order at all (OrderNotFound, never "forbidden").

    async def change(
        self, order_id: str, body: http.ChangeCreate, key: str | None, caller: Principal
    ) -> OrderRecord:
        """Change the address and/or line quantities; refused, changing nothing, when it can't."""
        order = await self._get(order_id)  # its lines too: the change is checked against them
        if not caller.sees(order.channel):
            raise OrderNotFound(order_id)
        await self._refuse_invalid_change(order, body)
        request_id = _request_id(order_id, SupportAction.CHANGE, key)
        request = to_change_request(body, request_id, caller.actor)
        return await self._act(SupportAction.CHANGE, request, order_id)

    async def hold(
        self, order_id: str, body: http.HoldCreate, key: str | None, caller: Principal
    ) -> OrderRecord:
        """Stop the order before its next step; it shows `on_hold` until released."""
        await self._require(order_id, caller)
        request_id = _request_id(order_id, SupportAction.HOLD, key)
        request = to_hold_request(body, request_id, caller.actor)
        return await self._act(SupportAction.HOLD, request, order_id)

    async def release(
        self, order_id: str, body: http.ReleaseCreate, key: str | None, caller: Principal
    ) -> OrderRecord:
        """Let a held order continue where it stopped."""
        await self._require(order_id, caller)
        request_id = _request_id(order_id, SupportAction.RELEASE, key)
        request = to_release_request(body, request_id, caller.actor)
        return await self._act(SupportAction.RELEASE, request, order_id)

    async def cancel(
        self, order_id: str, body: http.CancelCreate, key: str | None, caller: Principal
    ) -> OrderRecord:
        """Cancel; the order reaches `cancelled` once its steps are undone (asynchronously)."""
        await self._require(order_id, caller)
        request_id = _request_id(order_id, SupportAction.CANCEL, key)
        request = to_cancel_request(body, request_id, caller.actor)
        return await self._act(SupportAction.CANCEL, request, order_id)

    async def audit_trail(self, order_id: str, caller: Principal) -> Sequence[AuditRecord]:
        """The order's audit rows, oldest first (OrderNotFound when there is no such order)."""
        await self._require(order_id, caller)
        return await self._records.audit_trail(order_id)

    # One action: send the update, audit a refusal, read the order afresh.

    async def _act(
        self, action: SupportAction, request: SupportRequest, order_id: str
    ) -> OrderRecord:
        for earlier in await self._records.requests_of(request.request_id):
            if earlier != asked(request):
                raise Refused("this Idempotency-Key was already used for a different request")
        try:
            await self._send(action, request, order_id)
        except Refused as refused:
            await self._records.audit(_refusal(order_id, action, request, refused.reason))
            raise
        return await self._get(order_id)  # the workflow moved the order meanwhile

    async def _send(self, action: SupportAction, request: SupportRequest, order_id: str) -> None:
        try:
            await self._updates.send(order_id, action, request)
        except WorkflowNotRunning:
            head = await self._records.head(order_id)
            status = None if head is None else head.status
            if status in TERMINAL:
                raise Refused(f"order is already {status}") from None
            raise SupportUnavailable(
                "the order's workflow has not started yet; retry shortly"
            ) from None

    async def _require(self, order_id: str, caller: Principal) -> None:
        """OrderNotFound unless the order exists in a channel the caller sees."""
        head = await self._records.head(order_id)
        if head is None or not caller.sees(head.channel):
            raise OrderNotFound(order_id)

    async def _get(self, order_id: str) -> OrderRecord:
        order = await self._records.order(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def _refuse_invalid_change(self, order: OrderRecord, body: http.ChangeCreate) -> None:
        """422s the request itself shows, checked against the order's lines, naming the field."""
        if body.shipping_address is None and body.lines is None:
            msg = "give a shipping_address, lines, or both"
            raise invalid([field_error(("body",), msg, "empty_change", None)])
        errors = _line_errors(order, body.lines or [])
        new = [line.sku for line in body.lines or [] if line.sku not in _prices(order)]
        unknown = set(await self._records.unknown_skus(new)) if new else set()
        errors += [
            field_error(
                ("body", "lines", no, "sku"), f"unknown SKU {line.sku!r}", "unknown_sku", line.sku
            )
            for no, line in enumerate(body.lines or [])
            if line.sku in unknown
        ]
        if errors:
            raise invalid(errors)


def _request_id(order_id: str, action: SupportAction, key: str | None) -> str:
    """The update id (and audit key): the caller's Idempotency-Key makes a retry the same one."""
    return f"{order_id}:{action}:{key or uuid4()}"


def _refusal(
    order_id: str, action: SupportAction, request: SupportRequest, reason: str
) -> RecordAuditInput:
    """The audit row of a refusal the workflow never recorded itself."""
    return RecordAuditInput(
        order_id=order_id,
        request_id=request.request_id,
        action=action,
        requested_by=request.requested_by,
        request_json=asked_json(request),
        outcome=AuditOutcome.REFUSED,
        detail=reason,
        at=datetime.now(UTC),
        label=request.label,
    )


def _line_errors(order: OrderRecord, lines: list[http.LineChange]) -> list[dict[str, object]]:
    prices, seen, errors = _prices(order), set[str](), []
    for no, line in enumerate(lines):
        where = ("body", "lines", no)
        if line.sku in seen:
            msg = f"SKU {line.sku!r} appears twice"
            errors.append(field_error((*where, "sku"), msg, "duplicate_sku", line.sku))
        seen.add(line.sku)
        price = prices.get(line.sku)
        if price is None and line.quantity > 0 and line.unit_price is None:
            msg = f"SKU {line.sku!r} is not on the order: give its unit_price to add it"
            errors.append(field_error((*where, "unit_price"), msg, "missing", None))
        elif price is not None and line.unit_price not in (None, price):
            msg = f"the price of {line.sku!r} on the order is {price}; it cannot be changed here"
            errors.append(field_error((*where, "unit_price"), msg, "price_change", line.unit_price))
    return errors


def _prices(order: OrderRecord) -> dict[str, int]:
    return {line.sku: line.unit_price for line in order.lines}
