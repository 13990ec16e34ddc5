"""Support actions on an order (change, hold, release, cancel), shared by the API and the console.

Each one is a Temporal Update on the order's workflow, which accepts or refuses it synchronously.
The workflow writes the audit row of every action it handled; refusals it never saw (its
validator said no, or it is not running) are written here. Both write by (request_id, outcome),
so a retried request never writes twice. Passing the same `idempotency_key` again reuses the
update id, and Temporal answers a finished update with its first outcome.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Resources
from api.errors import (
    OrderNotFound,
    Refused,
    SupportUnavailable,
    field_error,
    invalid,
)
from api.schemas import CancelCreate, ChangeCreate, HoldCreate, LineChange, ReleaseCreate
from db.audit import AuditRepository
from db.models import AuditRecord, OrderRecord
from db.orders import OrderRepository
from db.stock import StockRepository
from workflows import contracts as c
from workflows.changes import asked
from workflows.contracts import SupportAction, order_workflow_id
from workflows.rules import TERMINAL

__all__ = [  # the errors come from api.errors, where the API turns them into 404/409/503
    "OrderNotFound",
    "Refused",
    "SupportUnavailable",
    "audit_trail",
    "cancel_order",
    "change_order",
    "hold_order",
    "release_order",
]

UPDATE_WAIT = timedelta(seconds=10)  # an update answers at once when a worker is up


async def change_order(
    resources: Resources, session: AsyncSession, order_id: str, body: ChangeCreate, key: str | None
) -> OrderRecord:
    """Change the address and/or line quantities; refused (and nothing changes) when it can't."""
    order = await _get(session, order_id)
    await _refuse_invalid_change(session, order, body)
    request = c.ChangeRequest(
        requested_by=body.requested_by,
        reason=body.reason,
        shipping_address=(
            c.Address(**body.shipping_address.model_dump()) if body.shipping_address else None
        ),
        lines=[c.LineChange(**line.model_dump()) for line in body.lines] if body.lines else None,
        request_id=_request_id(order_id, SupportAction.CHANGE, key),
    )
    return await _act(resources, session, SupportAction.CHANGE, request, order_id)


async def hold_order(
    resources: Resources, session: AsyncSession, order_id: str, body: HoldCreate, key: str | None
) -> OrderRecord:
    """Stop the order before its next step; it shows `on_hold` until released."""
    await _require(session, order_id)
    request = c.HoldRequest(
        reason_code=c.HoldReason(body.reason_code),
        requested_by=body.requested_by,
        note=body.note,
        request_id=_request_id(order_id, SupportAction.HOLD, key),
    )
    return await _act(resources, session, SupportAction.HOLD, request, order_id)


async def release_order(
    resources: Resources,
    session: AsyncSession,
    order_id: str,
    body: ReleaseCreate,
    key: str | None,
) -> OrderRecord:
    """Let a held order continue where it stopped."""
    await _require(session, order_id)
    request = c.ReleaseRequest(
        requested_by=body.requested_by,
        note=body.note,
        request_id=_request_id(order_id, SupportAction.RELEASE, key),
    )
    return await _act(resources, session, SupportAction.RELEASE, request, order_id)


async def cancel_order(
    resources: Resources,
    session: AsyncSession,
    order_id: str,
    body: CancelCreate,
    key: str | None,
) -> OrderRecord:
    """Cancel; the order reaches `cancelled` once its steps are undone (asynchronously)."""
    await _require(session, order_id)
    request = c.CancelRequest(
        reason=body.reason,
        requested_by=body.requested_by,
        request_id=_request_id(order_id, SupportAction.CANCEL, key),
    )
    return await _act(resources, session, SupportAction.CANCEL, request, order_id)


async def audit_trail(session: AsyncSession, order_id: str) -> Sequence[AuditRecord]:
    """The order's audit rows, oldest first (OrderNotFound when there is no such order)."""
    await _require(session, order_id)
    return await AuditRepository(session).for_order(order_id)


# One action: send the update, audit a refusal, read the order afresh.

Request = c.ChangeRequest | c.HoldRequest | c.ReleaseRequest | c.CancelRequest


async def _act(
    resources: Resources,
    session: AsyncSession,
    action: SupportAction,
    request: Request,
    order_id: str,
) -> OrderRecord:
    for earlier in await AuditRepository(session).requests_of(request.request_id):
        if earlier != asked(request):
            raise Refused("this Idempotency-Key was already used for a different request")
    try:
        await _send(resources, session, order_id, action, request)
    except Refused as refused:
        await _audit_refusal(session, order_id, action, request, refused.reason)
        raise
    session.expunge_all()  # the workflow moved the order meanwhile: read it afresh
    return await _get(session, order_id)


async def _send(
    resources: Resources,
    session: AsyncSession,
    order_id: str,
    action: SupportAction,
    request: Request,
) -> None:
    handle = resources.temporal.get_workflow_handle(order_workflow_id(order_id))
    try:
        await handle.execute_update(
            action.value,  # the workflow's update of that name: change, hold, release, cancel
            request,
            id=request.request_id,
            rpc_timeout=UPDATE_WAIT,
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise Refused(cause.message if isinstance(cause, ApplicationError) else str(cause)) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise await _not_running(session, order_id) from err
        raise _unavailable() from err
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RuntimeError) as err:
        raise _unavailable() from err


async def _not_running(session: AsyncSession, order_id: str) -> Exception:
    """The workflow is closed (the order is final) or was never started."""
    status = await OrderRepository(session).status_of(order_id)
    if status in TERMINAL:
        return Refused(f"order is already {status}")
    return SupportUnavailable("the order's workflow has not started yet; retry shortly")


def _unavailable() -> SupportUnavailable:
    return SupportUnavailable(
        "the workflow service did not answer; the action may still apply, check the order"
    )


async def _audit_refusal(
    session: AsyncSession,
    order_id: str,
    action: SupportAction,
    request: Request,
    reason: str,
) -> None:
    await session.rollback()
    async with session.begin():
        await AuditRepository(session).add(
            order_id=order_id,
            request_id=request.request_id,
            action=action.value,
            requested_by=request.requested_by,
            request=asked(request),
            outcome="refused",
            detail=reason,
            at=datetime.now(UTC),
        )


def _request_id(order_id: str, action: SupportAction, key: str | None) -> str:
    """The update id (and audit key): the caller's Idempotency-Key makes a retry the same one."""
    return f"{order_id}:{action}:{key or uuid4()}"


async def _require(session: AsyncSession, order_id: str) -> None:
    """OrderNotFound unless the order exists (its lines and history are not needed)."""
    if await OrderRepository(session).status_of(order_id) is None:
        raise OrderNotFound(order_id)


async def _get(session: AsyncSession, order_id: str) -> OrderRecord:
    order = await OrderRepository(session).get_with_details(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def _refuse_invalid_change(
    session: AsyncSession, order: OrderRecord, body: ChangeCreate
) -> None:
    """422s the request itself shows, checked against the order's lines: the field says where."""
    if body.shipping_address is None and body.lines is None:
        msg = "give a shipping_address, lines, or both"
        raise invalid([field_error(("body",), msg, "empty_change", None)])
    errors = _line_errors(order, body.lines or [])
    new = [line.sku for line in body.lines or [] if line.sku not in _prices(order)]
    unknown = set(await StockRepository(session).unknown_skus(new)) if new else set()
    errors += [
        field_error(
            ("body", "lines", no, "sku"), f"unknown SKU {line.sku!r}", "unknown_sku", line.sku
        )
        for no, line in enumerate(body.lines or [])
        if line.sku in unknown
    ]
    if errors:
        raise invalid(errors)


def _line_errors(order: OrderRecord, lines: list[LineChange]) -> list[dict[str, object]]:
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
