"""What the webhook routes do: subscribe (the URL checked, the secret sealed), change, delete,
rotate a secret, replay past events and retry a delivery. Each change of an endpoint is a
security event: its secret is a credential, its URL where our data goes."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import Conflict, NotFound, SupportUnavailable, field_error, invalid
from api.integration_schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from db import events, leases, webhooks
from db.console_users import SecurityEvent, SecurityEventRepository
from db.models import WebhookDeliveryRecord, WebhookEndpointRecord
from db.webhooks import EVERY, SECRET_PURPOSE, DeliveryStatus
from integration.webhooks import UrlRefused, new_secret, resolve_allowed
from security.principal import Principal
from security.sealed import seal
from settings import Settings
from temporal_client import retry_delivery

OVERLAP = timedelta(hours=24)  # after a rotation, deliveries carry both signatures this long
REPLAY_LIMIT = 10_000  # events per replay call: ask again with a later `since` for more


async def create(
    session: AsyncSession, settings: Settings, body: WebhookEndpointCreate, caller: Principal
) -> tuple[WebhookEndpointRecord, str]:
    """The new endpoint, committed, and its secret (shown this once)."""
    await _refuse_url(body.url, settings)
    secret, now = new_secret(), datetime.now(UTC)
    endpoint = WebhookEndpointRecord(
        id=webhooks.new_id("we"),
        url=body.url,
        events=_subscriptions(body.events),
        description=body.description,
        secret=seal(secret, settings.server_secret(), SECRET_PURPOSE),
        created_by=caller.actor,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await _security_event(session, SecurityEvent.WEBHOOK_CREATED, endpoint, caller)
    await session.commit()
    return endpoint, secret


async def change(
    session: AsyncSession,
    settings: Settings,
    endpoint_id: str,
    body: WebhookEndpointUpdate,
    caller: Principal,
) -> WebhookEndpointRecord:
    endpoint = await locked(session, endpoint_id)
    if body.url is not None:
        await _refuse_url(body.url, settings)
        endpoint.url = body.url
    if body.events is not None:
        endpoint.events = _subscriptions(body.events)
    if "description" in body.model_fields_set:
        endpoint.description = body.description
    if body.disabled is not None:
        endpoint.disabled = body.disabled
        endpoint.disabled_reason = "disabled by " + caller.actor if body.disabled else None
    endpoint.updated_at = datetime.now(UTC)
    await _security_event(session, SecurityEvent.WEBHOOK_CHANGED, endpoint, caller)
    await session.commit()
    return endpoint


async def delete(session: AsyncSession, endpoint_id: str, caller: Principal) -> None:
    """Deleted: nothing more is delivered (pending deliveries end `cancelled` at their next
    attempt); its deliveries stay readable by id for the record."""
    endpoint = await locked(session, endpoint_id)
    endpoint.deleted_at = endpoint.updated_at = datetime.now(UTC)
    await _security_event(session, SecurityEvent.WEBHOOK_DELETED, endpoint, caller)
    await session.commit()


async def rotate(
    session: AsyncSession, settings: Settings, endpoint_id: str, caller: Principal
) -> tuple[WebhookEndpointRecord, str]:
    """A new secret; the old one still signs, beside it, for `OVERLAP`."""
    endpoint = await locked(session, endpoint_id)
    secret, now = new_secret(), datetime.now(UTC)
    endpoint.previous_secret, endpoint.previous_until = endpoint.secret, now + OVERLAP
    endpoint.secret = seal(secret, settings.server_secret(), SECRET_PURPOSE)
    endpoint.updated_at = now
    await _security_event(session, SecurityEvent.WEBHOOK_SECRET_ROTATED, endpoint, caller)
    await session.commit()
    return endpoint, secret


async def replay(session: AsyncSession, endpoint_id: str, since: datetime) -> int:
    """Queue the endpoint's events since `since` again (new deliveries, the same `webhook-id`s:
    a receiver that kept them drops the repeats); the relay starts them within a round."""
    endpoint = await locked(session, endpoint_id)
    if endpoint.disabled:
        raise Conflict("the endpoint is disabled: enable it (PATCH disabled=false) to replay")
    types = None if EVERY in endpoint.events else list(endpoint.events)
    past = await events.since(session, since, types, REPLAY_LIMIT)
    origin = f"replay:{datetime.now(UTC).isoformat(timespec='milliseconds')}"
    queued = await webhooks.fan_out(session, past, [endpoint], origin=origin)
    await session.commit()
    return len(queued)


async def retry(
    session: AsyncSession, temporal: Client, settings: Settings, delivery_id: str, actor: str
) -> WebhookDeliveryRecord:
    """Back to `pending` and tried at once (a waiting delivery skips its wait; an ended one runs
    again). Temporal down: 503, and the relay starts it within a round anyway."""
    delivery = await webhooks.delivery(session, delivery_id, lock=True)
    if delivery is None or await webhooks.endpoint(session, delivery.endpoint_id) is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    delivery.status, delivery.started = DeliveryStatus.PENDING.value, False
    delivery.next_attempt_at, delivery.updated_at = None, datetime.now(UTC)
    await session.commit()
    try:
        await retry_delivery(temporal, delivery_id, settings.task_queue, actor)
    except (RPCError, RuntimeError) as err:
        raise SupportUnavailable(
            "the workflow service did not answer; the delivery is pending and will be tried"
        ) from err
    await leases.hand_off(session, WebhookDeliveryRecord, [delivery_id])
    await session.commit()
    return delivery


async def locked(session: AsyncSession, endpoint_id: str) -> WebhookEndpointRecord:
    endpoint = await webhooks.endpoint(session, endpoint_id, lock=True)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


async def _refuse_url(url: str, settings: Settings) -> None:
    """422 at body.url for a URL we would never call (its scheme, or where it resolves now)."""
    try:
        await resolve_allowed(url, settings.webhook_allow_private)
    except UrlRefused as refused:
        raise invalid([field_error(("body", "url"), str(refused), "url_refused", url)]) from None


def _subscriptions(asked: Sequence[str]) -> list[str]:
    """Each type once, in the order given; `*` alone when it is among them."""
    return [EVERY] if EVERY in asked else list(dict.fromkeys(asked))


async def _security_event(
    session: AsyncSession, kind: SecurityEvent, endpoint: WebhookEndpointRecord, caller: Principal
) -> None:
    detail = f"{endpoint.id} {endpoint.url}"
    await SecurityEventRepository(session).record(kind, actor=caller.actor, detail=detail)
