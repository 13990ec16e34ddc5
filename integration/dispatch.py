"""The relay's own first try: it POSTs each new webhook delivery and sends each new customer e-mail
itself, and starts a workflow (WebhookDeliveryWorkflow, MailWorkflow) only for what failed, which
then retries on its schedule for three days.

Why: a workflow per delivery cost the order pipeline four fifths of its speed with one subscriber
to every event (`make bench --subscribers 1`: 0.7 orders/s against 3.3 without), because the
deliveries' workflows share the Temporal server and the worker's CPU with the orders. A first try
made here costs a POST (or an SMTP conversation) and two short transactions per batch.

Each row is claimed under a lease (db/leases.py): two relays never try the same row, and one that
dies mid-try leaves it to the next after OMS_RELAY_LEASE. A POST that got through just before such a
death is made again (at least once; a receiver dedupes by `webhook-id`) and a mail is sent again
under the same Message-ID: the documented duplicate. An endpoint whose first try just failed is
`FAILING`: its next deliveries go straight to workflows, so a receiver that hangs cannot hold the
relay up for more than one round.
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client

from db import leases, webhooks
from db.models import EventRecord, NotificationRecord, WebhookDeliveryRecord, WebhookEndpointRecord
from db.notifications import NotificationStatus
from db.session import SessionFactory
from db.webhooks import DeliveryStatus, Outcome
from integration.delivery import post_event
from integration.mail.sender import Mailer
from settings import Settings
from temporal_client import start_delivery, start_mail
from workflows.integration_contracts import DeliveryInput, MailInput
from workflows.webhook_delivery import wait_after

log = logging.getLogger(__name__)
# A round is bounded, so that it ends within the lease (OMS_RELAY_LEASE, 60 s): at most
# ROUND / PER_ENDPOINT waves of POSTs of at most 10 s, or MAILS / PER_SERVER waves of sends of at
# most MAIL_TRY. 40 s either way.
ROUND = 64  # deliveries claimed per round
PER_ENDPOINT = 16  # POSTs in flight to one endpoint
MAILS = 16  # mails claimed per round
PER_SERVER = 8  # SMTP conversations in flight
MAIL_TRY = 20.0  # seconds a first send may take in all (the workflow's sends have 30)
FAILING = 60.0  # seconds an endpoint's deliveries skip the first try after one failed
MAIL_RETRY = timedelta(seconds=5)  # after a failed first send, as the mail workflow's retries


@dataclass(frozen=True, kw_only=True)
class Tried:
    """A delivery's first try, to record."""

    delivery_id: str
    outcome: Outcome
    at: datetime


class Dispatcher:
    """One per relay (per worker process); `deliver` and `send` are one round each."""

    def __init__(self, client: Client, sessions: SessionFactory, settings: Settings) -> None:
        self._client = client
        self._sessions = sessions
        self._settings = settings
        self._mailer = Mailer(sessions, settings)
        self._failing: dict[str, float] = {}  # endpoint → monotonic time it failed a first try

    async def deliver(self) -> int:
        """Claim a round of deliveries, try the fresh ones, hand the rest on; how many."""
        async with self._sessions.begin() as session:
            lease = self._settings.relay_lease
            round_ = await leases.claim(session, WebhookDeliveryRecord, ROUND, lease)
            claimed = round_.rows
            if not claimed:
                return 0
            targets = {t.id: t for t in await webhooks.endpoints(session)}
            wanted = select(EventRecord).where(EventRecord.id.in_({d.event_id for d in claimed}))
            found = {e.id: e for e in await session.scalars(wanted)}
        fresh, later, ended = [], [], []
        for row in claimed:
            target = targets.get(row.endpoint_id)
            if row.status != DeliveryStatus.PENDING:
                ended.append(row.id)  # retried by support, then ended by its workflow
            elif target is None or target.disabled or row.event_id not in found:
                later.append(row)  # the workflow's attempt cancels it
            elif row.id in round_.taken_over or row.attempts or self._is_failing(target.id):
                later.append(row)  # a dead relay may have started its workflow: use that
            else:
                fresh.append((row, target, found[row.event_id]))
        tried = await self._try_all(fresh)
        failed = await self._record(tried, ended)
        await self._hand_on([*later, *failed])
        return len(claimed)

    async def send(self) -> int:
        """Claim a round of mails, send the fresh ones, hand the rest on; how many."""
        async with self._sessions.begin() as session:
            lease = self._settings.relay_lease
            round_ = await leases.claim(session, NotificationRecord, MAILS, lease)
        claimed = round_.rows
        if not claimed:
            return 0
        fresh, later, done = [], [], []
        for note in claimed:
            if note.status not in (NotificationStatus.PENDING, NotificationStatus.SENDING):
                done.append(note.id)  # sent, or failed, by its workflow
            elif note.status == NotificationStatus.SENDING or note.id in round_.taken_over:
                later.append(note.id)  # a dead relay may have started its workflow: use that
            else:
                fresh.append(note.id)
        gate = asyncio.Semaphore(PER_SERVER)

        async def first_send(notification_id: str) -> bool:
            async with gate:
                try:
                    async with asyncio.timeout(MAIL_TRY):
                        await self._mailer.send(notification_id)
                except Exception as err:  # recorded on the notification; its workflow retries
                    log.info("mail %s: first send failed: %s", notification_id, err)
                    return False
            return True

        sent = await asyncio.gather(*(first_send(n) for n in fresh))
        done += [n for n, ok in zip(fresh, sent, strict=True) if ok]
        retry_at = datetime.now(UTC) + MAIL_RETRY
        for notification_id in later:  # a send that died mid-way: the workflow retries it now
            await self._start_mail(MailInput(notification_id=notification_id))
        for notification_id, ok in zip(fresh, sent, strict=True):
            if not ok:
                await self._start_mail(
                    MailInput(notification_id=notification_id, retry_at=retry_at)
                )
        async with self._sessions.begin() as session:
            await leases.hand_off(session, NotificationRecord, [n.id for n in claimed])
        return len(claimed)

    async def _try_all(
        self, fresh: Sequence[tuple[WebhookDeliveryRecord, WebhookEndpointRecord, EventRecord]]
    ) -> list[Tried]:
        gates: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(PER_ENDPOINT))

        async def first_try(
            row: WebhookDeliveryRecord, target: WebhookEndpointRecord, event: EventRecord
        ) -> Tried:
            async with gates[target.id]:
                at = datetime.now(UTC)
                outcome = await post_event(target, event, self._settings)
            if not outcome.ok:
                self._failing[target.id] = time.monotonic()
            return Tried(delivery_id=row.id, outcome=outcome, at=at)

        return list(await asyncio.gather(*(first_try(*each) for each in fresh)))

    async def _record(
        self, tried: Sequence[Tried], ended: Sequence[str]
    ) -> list[WebhookDeliveryRecord]:
        """Record the tries (and hand off what needs nothing more); the failed rows."""
        failed: list[WebhookDeliveryRecord] = []
        done = list(ended)
        async with self._sessions.begin() as session:
            locked = await webhooks.deliveries_locked(session, [each.delivery_id for each in tried])
            for each in tried:
                row = locked[each.delivery_id]  # deliveries are never deleted
                next_at = each.at + wait_after(1)
                await webhooks.record_attempt(session, row, each.outcome, next_at)
                if row.status == DeliveryStatus.PENDING:
                    failed.append(row)
                else:
                    done.append(row.id)
            await leases.hand_off(session, WebhookDeliveryRecord, done)
        return failed

    async def _hand_on(self, rows: Sequence[WebhookDeliveryRecord]) -> None:
        """Start the workflows of deliveries that need more than a first try."""
        queue = self._settings.task_queue
        for row in rows:
            made = row.attempts
            after = DeliveryInput(
                delivery_id=row.id,
                attempts_made=made,
                first_attempt_at=row.created_at if made else None,
                next_attempt_at=row.next_attempt_at if made else None,
            )
            await start_delivery(self._client, after, queue)
        if rows:
            async with self._sessions.begin() as session:
                await leases.hand_off(session, WebhookDeliveryRecord, [row.id for row in rows])

    async def _start_mail(self, input: MailInput) -> None:
        queue = self._settings.task_queue
        await start_mail(self._client, input, "Send a customer e-mail", queue)

    def _is_failing(self, endpoint_id: str) -> bool:
        since = self._failing.get(endpoint_id)
        return since is not None and time.monotonic() - since < FAILING
