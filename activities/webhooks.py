"""Webhook deliveries after the relay's first attempt failed: each attempt signs and POSTs the
event (integration/delivery.py), then records how it went."""

from datetime import UTC, datetime

from temporalio import activity

from db import webhooks
from db.models import EventRecord, WebhookDeliveryRecord
from db.session import SessionFactory
from db.webhooks import DeliveryStatus
from integration.delivery import post_event
from settings import Settings
from workflows.contracts import ActivityName
from workflows.integration_contracts import (
    AttemptInput,
    AttemptOutcome,
    AttemptResult,
    GiveUpInput,
)

GAVE_UP = "every delivery failed for 3 days"


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
        outcome = await post_event(target, event, self._settings)
        async with self._sessions.begin() as session:
            locked = await webhooks.delivery(session, input.delivery_id, lock=True)
            assert locked is not None
            await webhooks.record_attempt(session, locked, outcome, input.next_attempt_at)
        ended = AttemptOutcome.DELIVERED if outcome.ok else AttemptOutcome.FAILED
        return AttemptResult(outcome=ended, status_code=outcome.status_code, error=outcome.error)

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

    async def _cancel(self, delivery: WebhookDeliveryRecord) -> None:
        async with self._sessions.begin() as session:
            locked = await webhooks.delivery(session, delivery.id, lock=True)
            if locked is not None and locked.status == DeliveryStatus.PENDING:
                locked.status, locked.next_attempt_at = DeliveryStatus.CANCELLED, None
                locked.updated_at = datetime.now(UTC)
