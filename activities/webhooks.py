"""Webhook deliveries: each attempt signs the event with the endpoint's secret(s) and POSTs it
(integration/webhooks.py checks the address again at every attempt), then records how it went."""

import json
from contextlib import suppress
from datetime import UTC, datetime

from temporalio import activity

from db import events, webhooks
from db.models import EventRecord, WebhookDeliveryRecord, WebhookEndpointRecord
from db.session import SessionFactory
from db.webhooks import SECRET_PURPOSE, DeliveryStatus, Outcome
from integration import webhooks as http
from security.sealed import Unsealable, unseal
from settings import Settings
from workflows.contracts import ActivityName
from workflows.integration_contracts import (
    AttemptInput,
    AttemptOutcome,
    AttemptResult,
    GiveUpInput,
)

GAVE_UP = "every delivery failed for 3 days"
UNREADABLE = (
    "the signing secret was sealed with another OMS_SECRET_KEY: rotate the endpoint's secret"
)


class WebhookActivities:
    """Attempts and their outcomes; the POST is outside, the records are ours."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name=ActivityName.DELIVER_WEBHOOK)
    async def deliver_webhook(self, input: AttemptInput) -> AttemptResult:
        """POST the event once; a receiver's failure is a result (the workflow schedules the
        next attempt), only our own database's errors are retried here."""
        async with self._sessions() as session:
            delivery = await webhooks.delivery(session, input.delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return AttemptResult(outcome=AttemptOutcome.GONE)  # ended by an earlier try
            target = await webhooks.endpoint(session, delivery.endpoint_id)
            event = await session.get(EventRecord, delivery.event_id)
        if target is None or target.disabled or event is None:
            await self._cancel(delivery)
            return AttemptResult(outcome=AttemptOutcome.GONE)
        attempted = await self._post(target, event)
        async with self._sessions.begin() as session:
            locked = await webhooks.delivery(session, input.delivery_id, lock=True)
            assert locked is not None
            outcome = Outcome(
                ok=attempted.ok,
                status_code=attempted.status_code,
                latency_ms=attempted.latency_ms,
                error=attempted.error,
                response=attempted.response,
            )
            await webhooks.record_attempt(session, locked, outcome, input.next_attempt_at)
        ended = AttemptOutcome.DELIVERED if attempted.ok else AttemptOutcome.FAILED
        return AttemptResult(
            outcome=ended, status_code=attempted.status_code, error=attempted.error
        )

    @activity.defn(name=ActivityName.GIVE_UP_WEBHOOK)
    async def give_up_webhook(self, input: GiveUpInput) -> None:
        """The delivery ends `failed`; its endpoint is disabled if nothing reached it since the
        delivery's first attempt either (failing for the whole window)."""
        async with self._sessions.begin() as session:
            delivery = await webhooks.delivery(session, input.delivery_id, lock=True)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.updated_at = datetime.now(UTC)
            target = await webhooks.endpoint(session, delivery.endpoint_id, lock=True)
            if target is None:
                return
            if not await webhooks.succeeded_since(session, target.id, input.failing_since):
                await webhooks.disable(session, target, GAVE_UP)

    async def _post(self, target: WebhookEndpointRecord, event: EventRecord) -> http.Attempted:
        body = json.dumps(events.envelope(event), separators=(",", ":")).encode()
        now = datetime.now(UTC)
        try:
            signing = self._secrets(target, now)
        except Unsealable:  # the server secret changed since: nothing can be signed
            return http.Attempted(ok=False, status_code=None, latency_ms=0, response=None,
                                  error=UNREADABLE)  # fmt: skip
        headers = http.signature_headers(events.public_id(event.id), now, body, signing)
        allow = self._settings.webhook_allow_private
        return await http.post(target.url, body, headers, allow_private=allow)

    def _secrets(self, target: WebhookEndpointRecord, now: datetime) -> list[str]:
        """The endpoint's secret, and the one it replaced while their overlap lasts (unless it
        was sealed under an earlier server secret: then the new one alone)."""
        server = self._settings.server_secret()
        current = [unseal(target.secret, server, SECRET_PURPOSE)]
        if target.previous_secret is not None and (target.previous_until or now) > now:
            with suppress(Unsealable):
                current.append(unseal(target.previous_secret, server, SECRET_PURPOSE))
        return current

    async def _cancel(self, delivery: WebhookDeliveryRecord) -> None:
        async with self._sessions.begin() as session:
            locked = await webhooks.delivery(session, delivery.id, lock=True)
            if locked is not None and locked.status == DeliveryStatus.PENDING:
                locked.status, locked.next_attempt_at = DeliveryStatus.CANCELLED, None
                locked.updated_at = datetime.now(UTC)
