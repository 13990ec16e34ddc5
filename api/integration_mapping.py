"""Rows of the integration module as the API answers them (rows → HTTP models, by name)."""

from typing import Any

from api import integration_schemas as http
from api.mapping import to_address_public
from db.events import envelope, public_id
from db.models import EventRecord, NotificationRecord, WebhookDeliveryRecord, WebhookEndpointRecord


def to_event_public(event: EventRecord) -> http.EventPublic:
    return http.EventPublic.model_validate(envelope(event))


def to_endpoint_public(endpoint: WebhookEndpointRecord) -> http.WebhookEndpointPublic:
    return http.WebhookEndpointPublic(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        disabled=endpoint.disabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def to_endpoint_with_secret(
    endpoint: WebhookEndpointRecord, secret: str
) -> http.WebhookEndpointWithSecret:
    shown = to_endpoint_public(endpoint).model_dump()
    return http.WebhookEndpointWithSecret(**shown, secret=secret)


def to_delivery_public(delivery: WebhookDeliveryRecord, event_type: str) -> http.DeliveryPublic:
    return http.DeliveryPublic(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=public_id(delivery.event_id),
        event_type=event_type,
        origin=delivery.origin,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_latency_ms=delivery.last_latency_ms,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        succeeded_at=delivery.succeeded_at,
    )


def to_customer_public(view: dict[str, Any]) -> http.CustomerPublic:
    """The customer view (db/customers.py: the same fields as `customer.updated` carries)."""
    addresses = [to_address_public(address) for address in view["addresses"]]
    return http.CustomerPublic.model_validate(view | {"addresses": addresses})


def to_notification_public(note: NotificationRecord) -> http.NotificationPublic:
    return http.NotificationPublic(
        id=note.id,
        kind=note.kind,
        to=note.to_address,
        language=note.language,
        subject=note.subject,
        message_id=note.message_id,
        status=note.status,
        attempts=note.attempts,
        last_error=note.last_error,
        created_at=note.created_at,
        sent_at=note.sent_at,
    )
