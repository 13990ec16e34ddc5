"""Refunds as the API and the console both ask for them: the claim (or its replay by
Idempotency-Key) in one transaction, then the start of the workflow `refund-{id}`."""

import hashlib
import json
import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import (
    Conflict,
    OrderNotFound,
    SupportUnavailable,
    field_error,
    invalid,
)
from api.money_schemas import RefundCreate
from db import refunds
from db.mapping import to_refund_input
from db.models import RefundRecord
from db.orders import OrderRepository
from db.refunds import RefundAsk, RefundRefused, UnitsAsked
from security.principal import Principal
from temporal_client import start_refund
from workflows.money_contracts import RefundMethod, RefundStatus

log = logging.getLogger(__name__)


class RefundNotStarted(SupportUnavailable):
    """The refund is claimed (it counts) but Temporal did not start its workflow: the
    reconciler starts it within a minute, and a retry with the same key starts it now."""

    def __init__(self, refund_id: str) -> None:
        super().__init__(
            f"refund {refund_id} is claimed but its workflow could not start: retry with "
            "the same Idempotency-Key (it is started within a minute in any case)"
        )
        self.refund_id = refund_id


async def claim_and_start(
    session: AsyncSession,
    temporal: Client,
    task_queue: str,
    order_id: str,
    body: RefundCreate,
    caller: Principal,
    key: str | None,
) -> RefundRecord:
    """The refund `key` already names (a replay), or a new one claimed and started; shared by
    this route and the console's refund form. Raises OrderNotFound, Conflict (409), the 422 of
    SKUs not on the order, or RefundNotStarted."""
    refund = await _stored_or_claimed(session, order_id, body, caller, key)
    if refund.status == RefundStatus.PENDING:
        try:
            await start_refund(temporal, to_refund_input(refund), task_queue)
        except (RPCError, RuntimeError) as err:
            log.warning("refund %s claimed but not started: %s", refund.id, err)
            raise RefundNotStarted(refund.id) from err
    return refund


async def _stored_or_claimed(
    session: AsyncSession,
    order_id: str,
    body: RefundCreate,
    caller: Principal,
    key: str | None,
) -> RefundRecord:
    digest = _request_hash(body)
    if key is not None and (stored := await refunds.by_idempotency_key(session, order_id, key)):
        return _replay(stored, digest)
    skus = await _order_skus(session, order_id, caller)
    _refuse_unknown_skus(body, skus)
    ask = RefundAsk(
        order_id=order_id,
        method=RefundMethod(body.method),
        reason=body.reason,
        requested_by=caller.actor,
        request_hash=digest,
        amount=body.amount,
        lines=[UnitsAsked(sku=line.sku, quantity=line.quantity) for line in body.lines or ()],
        idempotency_key=key,
    )
    try:
        refund = await refunds.claim(session, ask)
        await session.commit()
    except RefundRefused as refused:
        await session.rollback()
        raise Conflict(str(refused)) from None
    except IntegrityError:
        await session.rollback()  # a concurrent request with the same key claimed first
        if (
            key is None
            or (stored := await refunds.by_idempotency_key(session, order_id, key)) is None
        ):
            raise
        return _replay(stored, digest)
    return refund


def _replay(stored: RefundRecord, digest: str) -> RefundRecord:
    if stored.request_hash != digest:
        raise Conflict("this Idempotency-Key was already used for a different refund")
    return stored


def _request_hash(body: RefundCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def sees_order(session: AsyncSession, order_id: str, caller: Principal) -> bool:
    head = await OrderRepository(session).head(order_id)
    return head is not None and caller.sees(head.channel)


async def order_head(session: AsyncSession, order_id: str, caller: Principal) -> None:
    if not await sees_order(session, order_id, caller):
        raise OrderNotFound(order_id)


async def _order_skus(session: AsyncSession, order_id: str, caller: Principal) -> set[str]:
    await order_head(session, order_id, caller)
    return set(await OrderRepository(session).skus(order_id))


def _refuse_unknown_skus(body: RefundCreate, skus: set[str]) -> None:
    errors = [
        field_error(
            ("body", "lines", no, "sku"),
            f"{line.sku!r} is not on the order",
            "not_on_order",
            line.sku,
        )
        for no, line in enumerate(body.lines or ())
        if line.sku not in skus
    ]
    seen: set[str] = set()
    for no, line in enumerate(body.lines or ()):
        if line.sku in seen:
            msg = f"{line.sku!r} is named twice"
            errors.append(field_error(("body", "lines", no, "sku"), msg, "duplicate_sku", line.sku))
        seen.add(line.sku)
    if errors:
        raise invalid(errors)
