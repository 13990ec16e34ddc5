"""Webhook endpoints (admin subscribes, ops reads), their deliveries, retries and replays."""

from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api import webhook_service as service
from api.auth import grants
from api.cursor import BadCursor, decode_delivery_cursor, encode_delivery_cursor
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import NotFound, answers, field_error, invalid
from api.integration_mapping import (
    to_delivery_public,
    to_endpoint_public,
    to_endpoint_with_secret,
)
from api.integration_schemas import (
    DeliveriesPublic,
    DeliveryPublic,
    DeliveryStatusName,
    ReplayCreate,
    ReplayPublic,
    WebhookEndpointCreate,
    WebhookEndpointPublic,
    WebhookEndpointsPublic,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from db import webhooks
from db.webhooks import DeliveryPosition
from security.principal import Principal
from security.roles import Scope

router = APIRouter(tags=["webhooks"])
Manages = Annotated[Principal, grants(Scope.WEBHOOKS_MANAGE)]
EndpointId = Annotated[str, Path(min_length=1, max_length=40)]
NO_ENDPOINT = answers({404: "No such webhook endpoint"})


@router.post(
    "/v1/webhook-endpoints",
    status_code=HTTPStatus.CREATED,
    responses=answers({422: "Not https, or resolves to a private address (body.url)"}),
)
async def create_endpoint(
    body: WebhookEndpointCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: Manages,
) -> WebhookEndpointWithSecret:
    """Subscribe a URL to event types (`["*"]`: all). The answer holds the signing secret
    (`whsec_…`), shown only here and at rotation: verify deliveries with it (README)."""
    endpoint, secret = await service.create(session, settings, body, caller)
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return to_endpoint_with_secret(endpoint, secret)


@router.get("/v1/webhook-endpoints", dependencies=[grants(Scope.WEBHOOKS_READ)])
async def list_endpoints(session: SessionDep) -> WebhookEndpointsPublic:
    """Every endpoint not deleted, oldest first (never their secrets)."""
    found = await webhooks.endpoints(session)
    return WebhookEndpointsPublic(items=[to_endpoint_public(e) for e in found])


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}",
    responses=NO_ENDPOINT,
    dependencies=[grants(Scope.WEBHOOKS_READ)],
)
async def get_endpoint(endpoint_id: EndpointId, session: SessionDep) -> WebhookEndpointPublic:
    """One endpoint: its URL, types, and whether it is disabled and why."""
    endpoint = await webhooks.endpoint(session, endpoint_id)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return to_endpoint_public(endpoint)


@router.patch("/v1/webhook-endpoints/{endpoint_id}", responses=NO_ENDPOINT)
async def change_endpoint(
    endpoint_id: EndpointId,
    body: WebhookEndpointUpdate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Manages,
) -> WebhookEndpointPublic:
    """Change its URL, types or description, or disable it / enable it again."""
    return to_endpoint_public(await service.change(session, settings, endpoint_id, body, caller))


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=HTTPStatus.NO_CONTENT,
    responses=NO_ENDPOINT,
)
async def delete_endpoint(endpoint_id: EndpointId, session: SessionDep, caller: Manages) -> None:
    """Stop delivering to it; pending deliveries end `cancelled`."""
    await service.delete(session, endpoint_id, caller)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", responses=NO_ENDPOINT)
async def rotate_secret(
    endpoint_id: EndpointId, session: SessionDep, settings: SettingsDep, caller: Manages
) -> WebhookEndpointWithSecret:
    """A new secret. For 24 hours deliveries carry a signature with each, old and new, so the
    receiver can switch whenever it likes within that day."""
    endpoint, secret = await service.rotate(session, settings, endpoint_id, caller)
    return to_endpoint_with_secret(endpoint, secret)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/replay",
    status_code=HTTPStatus.ACCEPTED,
    responses=NO_ENDPOINT,
    dependencies=[grants(Scope.WEBHOOKS_MANAGE)],
)
async def replay(endpoint_id: EndpointId, body: ReplayCreate, session: SessionDep) -> ReplayPublic:
    """Send the endpoint's events since `since` again, oldest first (at most `limit` a call),
    with their original `webhook-id`s."""
    queued = await service.replay(session, endpoint_id, body.since)
    return ReplayPublic(replayed=queued, limit=service.REPLAY_LIMIT)


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    responses=NO_ENDPOINT,
    dependencies=[grants(Scope.WEBHOOKS_READ)],
)
async def list_deliveries(
    endpoint_id: EndpointId,
    session: SessionDep,
    status: DeliveryStatusName | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveriesPublic:
    """Its deliveries, newest first: attempts, last status code and latency, next retry."""
    if await webhooks.endpoint(session, endpoint_id) is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    rows = await webhooks.deliveries(session, endpoint_id, status, _position(cursor), limit + 1)
    page = rows[:limit]
    types = await webhooks.event_types_of(session, [row.event_id for row in page])
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        position = DeliveryPosition(created_at=last.created_at, delivery_id=last.id)
        next_cursor = encode_delivery_cursor(position)
    items = [to_delivery_public(row, types[row.event_id]) for row in page]
    return DeliveriesPublic(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/retry",
    status_code=HTTPStatus.ACCEPTED,
    responses=answers({404: "No such delivery", 503: "Temporal is unavailable: it will run"}),
)
async def retry_delivery(
    delivery_id: Annotated[str, Path(min_length=1, max_length=40)],
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Manages,
) -> DeliveryPublic:
    """Try a delivery again now, whatever its status (a receiver dedupes by `webhook-id`)."""
    delivery = await service.retry(session, temporal, settings, delivery_id, caller.actor)
    types = await webhooks.event_types_of(session, [delivery.event_id])
    return to_delivery_public(delivery, types[delivery.event_id])


def _position(cursor: str | None) -> DeliveryPosition | None:
    if cursor is None:
        return None
    try:
        return decode_delivery_cursor(cursor)
    except BadCursor:
        loc = ("query", "cursor")
        raise invalid(
            [field_error(loc, "not a cursor from this API", "bad_cursor", cursor)]
        ) from None
