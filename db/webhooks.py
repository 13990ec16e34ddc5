"""Webhook endpoints and their deliveries: one delivery per (endpoint, event, origin), each POST of
it an attempt row. The relay fans events out and makes each first attempt; a delivery's workflow
makes the retries."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import events
from db.models import (
    EventRecord,
    WebhookAttemptRecord,
    WebhookDeliveryRecord,
    WebhookEndpointRecord,
)
from integration.catalog import EventType

EVERY = "*"  # an endpoint subscribed to every event type
SECRET_PURPOSE = "webhook-secret"  # security/sealed.py's label for endpoint secrets
LIVE = "live"  # a delivery made as its event happened (else: the replay that made it)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt failed for the retry window
    CANCELLED = "cancelled"  # its endpoint was deleted or disabled before it got through


@dataclass(frozen=True, kw_only=True)
class DeliveryPosition:
    created_at: datetime
    delivery_id: str


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One POST as the delivery records it."""

    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str | None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def subscribed(endpoint: WebhookEndpointRecord, event_type: str) -> bool:
    return EVERY in endpoint.events or event_type in endpoint.events


async def endpoint(
    session: AsyncSession, endpoint_id: str, lock: bool = False
) -> WebhookEndpointRecord | None:
    """The endpoint unless deleted; locked for the caller's transaction when asked."""
    query = select(WebhookEndpointRecord).where(
        WebhookEndpointRecord.id == endpoint_id, WebhookEndpointRecord.deleted_at.is_(None)
    )
    if lock:
        query = query.with_for_update()
    found: WebhookEndpointRecord | None = await session.scalar(query)
    return found


async def endpoints(
    session: AsyncSession, active_only: bool = False
) -> list[WebhookEndpointRecord]:
    """Every endpoint not deleted, oldest first (the active ones: not disabled either)."""
    query = select(WebhookEndpointRecord).where(WebhookEndpointRecord.deleted_at.is_(None))
    if active_only:
        query = query.where(WebhookEndpointRecord.disabled.is_(False))
    query = query.order_by(WebhookEndpointRecord.created_at, WebhookEndpointRecord.id)
    return list(await session.scalars(query))


async def fan_out(
    session: AsyncSession,
    batch: Sequence[EventRecord],
    to: Sequence[WebhookEndpointRecord],
    origin: str = LIVE,
) -> list[str]:
    """A pending delivery for each event to each endpoint subscribed to it (none twice: the
    unique (endpoint, event, origin) makes a repeated fan-out add nothing). Returns the new
    deliveries' ids, in the order of the events."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id("dlv"),
            "endpoint_id": target.id,
            "event_id": event.id,
            "origin": origin,
            "status": DeliveryStatus.PENDING,
            "created_at": now,
            "updated_at": now,
        }
        for event in batch
        for target in to
        if subscribed(target, event.type)
    ]
    if not rows:
        return []
    inserted = await session.scalars(
        insert(WebhookDeliveryRecord)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id", "origin"])
        .returning(WebhookDeliveryRecord.id)
    )
    new = set(inserted.all())
    return [row["id"] for row in rows if row["id"] in new]


async def deliveries_locked(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, WebhookDeliveryRecord]:
    """The deliveries, locked for the caller's transaction (in id order: no deadlocks), by id."""
    if not delivery_ids:
        return {}
    query = (
        select(WebhookDeliveryRecord)
        .where(WebhookDeliveryRecord.id.in_(delivery_ids))
        .order_by(WebhookDeliveryRecord.id)
        .with_for_update()
    )
    return {row.id: row for row in await session.scalars(query)}


async def delivery(
    session: AsyncSession, delivery_id: str, lock: bool = False
) -> WebhookDeliveryRecord | None:
    query = select(WebhookDeliveryRecord).where(WebhookDeliveryRecord.id == delivery_id)
    if lock:
        query = query.with_for_update()
    found: WebhookDeliveryRecord | None = await session.scalar(query)
    return found


async def deliveries(
    session: AsyncSession,
    endpoint_id: str,
    status: str | None,
    after: DeliveryPosition | None,
    limit: int,
) -> Sequence[WebhookDeliveryRecord]:
    """An endpoint's deliveries, newest first (keyset pages)."""
    query = select(WebhookDeliveryRecord).where(WebhookDeliveryRecord.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDeliveryRecord.status == status)
    if after is not None:
        keyset = tuple_(WebhookDeliveryRecord.created_at, WebhookDeliveryRecord.id)
        query = query.where(keyset < tuple_(after.created_at, after.delivery_id))
    query = query.order_by(
        WebhookDeliveryRecord.created_at.desc(), WebhookDeliveryRecord.id.desc()
    ).limit(limit)
    return (await session.scalars(query)).all()


async def event_types_of(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, str]:
    """The type of each event (a page of deliveries shows them)."""
    query = select(EventRecord.id, EventRecord.type).where(EventRecord.id.in_(event_ids))
    return {row.id: row.type for row in await session.execute(query)}


async def record_attempt(
    session: AsyncSession,
    record: WebhookDeliveryRecord,
    outcome: Outcome,
    next_attempt_at: datetime | None,
) -> None:
    """Append the attempt and bring the delivery up to date (the caller holds its lock)."""
    now = datetime.now(UTC)
    record.attempts += 1
    session.add(
        WebhookAttemptRecord(
            delivery_id=record.id,
            attempt=record.attempts,
            at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            response=outcome.response,
        )
    )
    record.last_status_code, record.last_error = outcome.status_code, outcome.error
    record.last_latency_ms, record.updated_at = outcome.latency_ms, now
    if outcome.ok:
        record.status, record.succeeded_at = DeliveryStatus.SUCCEEDED.value, now
        record.next_attempt_at = None
    else:
        record.next_attempt_at = next_attempt_at
    await session.flush()


async def attempts(session: AsyncSession, delivery_id: str) -> Sequence[WebhookAttemptRecord]:
    query = (
        select(WebhookAttemptRecord)
        .where(WebhookAttemptRecord.delivery_id == delivery_id)
        .order_by(WebhookAttemptRecord.attempt)
    )
    return (await session.scalars(query)).all()


async def succeeded_since(session: AsyncSession, endpoint_id: str, moment: datetime) -> bool:
    """Whether any delivery reached the endpoint since `moment`."""
    query = select(
        exists().where(
            WebhookDeliveryRecord.endpoint_id == endpoint_id,
            WebhookDeliveryRecord.succeeded_at >= moment,
        )
    )
    return bool(await session.scalar(query))


async def disable(session: AsyncSession, target: WebhookEndpointRecord, reason: str) -> None:
    """Stop delivering to the endpoint, and tell the other subscribers (once)."""
    if target.disabled:
        return
    target.disabled, target.disabled_reason = True, reason
    target.updated_at = datetime.now(UTC)
    await session.flush()
    data = {"webhook_endpoint": public_view(target), "reason": reason}
    await events.emit(session, EventType.WEBHOOK_ENDPOINT_DISABLED, target.id, data)


def public_view(target: WebhookEndpointRecord) -> dict[str, Any]:
    """The endpoint without its secrets (an event's snapshot)."""
    return {
        "id": target.id,
        "url": target.url,
        "events": list(target.events),
        "description": target.description,
        "disabled": target.disabled,
        "disabled_reason": target.disabled_reason,
        "created_at": target.created_at.isoformat(),
        "updated_at": target.updated_at.isoformat(),
    }
