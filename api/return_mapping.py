"""Returns and claims at the API's edge: HTTP requests → rows and Temporal payloads, rows → HTTP
models, each field named on both sides (as api/mapping.py does for orders)."""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import uuid4

from pydantic import BaseModel

from api import return_schemas as http
from api.money_mapping import to_refund_public
from db.models import (
    AuditRecord,
    OrderRecord,
    RefundRecord,
    ReturnHistoryRecord,
    ReturnLineRecord,
    ReturnRecord,
)
from workflows.contracts import AuditOutcome
from workflows.return_contracts import (
    Condition,
    ReceivedLine,
    ReceiveRequest,
    ReturnAuditAction,
    ReturnDecision,
    ReturnKind,
    ReturnStatus,
)


def body_hash(body: BaseModel) -> str:
    """sha256 of the canonical body: a replay with the same meaning has the same hash."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# HTTP → rows


def to_return_record(
    order: OrderRecord, body: http.ReturnCreate, actor: str, key: str | None
) -> ReturnRecord:
    """A new `requested` return (version 0) with its lines at the order's prices and the
    history row seq 0; the workflow writes every later row."""
    prices = {line.sku: line.unit_price for line in order.lines}
    lines = [
        ReturnLineRecord(
            line_no=no,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=prices[line.sku],
            reason=line.reason,
            note=line.note,
        )
        for no, line in enumerate(body.lines)
    ]
    exchange = [
        line.model_dump(exclude_none=True) for line in body.exchange_lines or ()
    ]  # {sku, quantity, unit_price?}: what db/return_books.py prices
    record = _new(order, ReturnKind.RETURN, ReturnStatus.REQUESTED, body, actor, key)
    record.resolution, record.advance, record.exchange_lines = (
        body.resolution,
        body.advance,
        exchange,
    )
    record.lines = lines
    return record


def to_claim_record(
    order: OrderRecord, body: http.ClaimCreate, actor: str, key: str | None
) -> ReturnRecord:
    """A claim, `completed` as it is written: its resolution is carried out in the same
    transaction. Its lines' reason is the claim's type."""
    prices = {line.sku: line.unit_price for line in order.lines}
    record = _new(order, ReturnKind.CLAIM, ReturnStatus.COMPLETED, body, actor, key)
    record.resolution, record.claim_type, record.note = body.resolution, body.type, body.note
    record.lines = [
        ReturnLineRecord(
            line_no=no,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=prices[line.sku],
            reason=body.type,
        )
        for no, line in enumerate(body.lines)
    ]
    return record


def _new(
    order: OrderRecord,
    kind: ReturnKind,
    status: ReturnStatus,
    body: BaseModel,
    actor: str,
    key: str | None,
) -> ReturnRecord:
    return_id, now = str(uuid4()), datetime.now(UTC)
    return ReturnRecord(
        id=return_id,
        kind=kind.value,
        order_id=order.id,
        customer_id=order.customer_id,
        channel=order.channel,
        status=status.value,
        requested_by=actor,
        idempotency_key=key,
        request_hash=body_hash(body),
        version=0,
        created_at=now,
        updated_at=now,
        history=[ReturnHistoryRecord(seq=0, status=status.value, actor=actor, at=now)],
    )


# HTTP → payloads


def to_decision(request_id: str, actor: str, reason: str | None) -> ReturnDecision:
    return ReturnDecision(request_id=request_id, requested_by=actor, reason=reason)


def to_receive_request(
    request_id: str, actor: str, lines: Sequence[http.ReceiptLine]
) -> ReceiveRequest:
    return ReceiveRequest(
        request_id=request_id,
        requested_by=actor,
        lines=[
            ReceivedLine(sku=line.sku, quantity=line.quantity, condition=Condition(line.condition))
            for line in lines
        ],
    )


def to_return_audit_row(
    order_id: str,
    request_id: str,
    action: ReturnAuditAction,
    actor: str,
    asked: dict[str, object],
    refused: str | None = None,
) -> AuditRecord:
    """One return action's outcome in the order's audit trail; `refused`: why it was. `asked`
    names the return (`return_id`) once there is one."""
    outcome = AuditOutcome.ACCEPTED if refused is None else AuditOutcome.REFUSED
    return AuditRecord(
        order_id=order_id,
        request_id=request_id,
        action=action.value,
        requested_by=actor,
        request=asked,
        outcome=outcome.value,
        detail=refused,
        at=datetime.now(UTC),
    )


# Rows → HTTP


def to_return_public(ret: ReturnRecord, refund: RefundRecord | None) -> http.ReturnPublic:
    """A return as stored (lines and history loaded), with the money it gave back."""
    label = None
    if ret.label_carrier is not None and ret.label_tracking_number is not None:
        label = http.LabelPublic(
            carrier=ret.label_carrier, tracking_number=ret.label_tracking_number
        )
    return http.ReturnPublic.model_validate(
        {
            "id": ret.id,
            "order_id": ret.order_id,
            "status": ret.status,
            "resolution": ret.resolution,
            "lines": [to_return_line_public(line) for line in ret.lines],
            "exchange_lines": [
                {"sku": x["sku"], "quantity": x["quantity"], "unit_price": x.get("unit_price")}
                for x in ret.exchange_lines
            ],
            "advance": ret.advance,
            "exchange_order_id": ret.exchange_order_id,
            "label": label,
            "receive_by": ret.receive_by,
            "refund": None if refund is None else to_refund_public(refund),
            "history": [to_return_history_public(entry) for entry in ret.history],
            "created_at": ret.created_at,
            "updated_at": ret.updated_at,
        }
    )


def to_return_line_public(line: ReturnLineRecord) -> http.ReturnLinePublic:
    received = line.resellable + line.damaged
    condition = None if not received else "damaged" if line.damaged else "resellable"
    return http.ReturnLinePublic.model_validate(
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "reason": line.reason,
            "note": line.note,
            "received": received,
            "resellable": line.resellable,
            "damaged": line.damaged,
            "condition": condition,
        }
    )


def to_return_history_public(entry: ReturnHistoryRecord) -> http.ReturnHistoryPublic:
    return http.ReturnHistoryPublic.model_validate(
        {"status": entry.status, "at": entry.at, "reason": entry.reason, "actor": entry.actor}
    )


def to_claim_public(claim: ReturnRecord, refund: RefundRecord | None) -> http.ClaimPublic:
    """A claim as stored (lines loaded), with its refund or its reship order."""
    return http.ClaimPublic.model_validate(
        {
            "id": claim.id,
            "order_id": claim.order_id,
            "type": claim.claim_type,
            "status": claim.status,
            "resolution": claim.resolution,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in claim.lines],
            "refund": None if refund is None else to_refund_public(refund),
            "reship_order_id": claim.exchange_order_id,
            "note": claim.note,
            "created_at": claim.created_at,
        }
    )
