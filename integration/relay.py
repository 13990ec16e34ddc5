"""The relay: fans new events out to webhook deliveries and customer e-mails, then makes their
first try (integration/dispatch.py), starting a workflow for each that failed. It runs in every
worker process beside the reconciler; one at a time fans out (a transaction-level advisory lock),
so several workers never race over the same events.

It follows the event feed (db/events.py) with its own cursor, moved in the transaction that
writes the deliveries and notifications: a crash before the commit leaves the cursor where it
was and the next round writes them (each is unique, so a repeat adds nothing). First tries and
workflow starts come after the commit, under a lease; a crash in between leaves them to a later
round. Deliveries and mails therefore never slow the order that caused them: the order's
transaction only wrote its event.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db import events, notifications, webhooks
from db.models import EventRecord, RelayCursorRecord
from db.session import SessionFactory
from integration.dispatch import Dispatcher
from settings import Settings

log = logging.getLogger(__name__)
BATCH = 500
RELAY_LOCK = 0x6F6D7372  # pg advisory lock key: "omsr"
CURSOR = "relay"


class Relay:
    """One relay per worker process: `fan_out` is one round of the fan-out, `run_forever` runs
    it and the dispatcher's rounds (integration/dispatch.py) in loops."""

    def __init__(self, client: Client, sessions: SessionFactory, settings: Settings) -> None:
        self._client = client
        self._sessions = sessions
        self._settings = settings
        self._dispatch = Dispatcher(client, sessions, settings)

    @property
    def mails(self) -> bool:
        """E-mails are recorded and sent only when a mail server is configured."""
        return self._settings.smtp_url is not None

    async def fan_out(self) -> int:
        """Deliveries and notifications for the next batch of events; the events passed."""
        async with self._sessions.begin() as session:
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0  # another worker's relay is at it
            cursor = await session.get(RelayCursorRecord, CURSOR, populate_existing=True)
            assert cursor is not None  # migration 0007 inserts it
            after = events.FeedPosition(tx=cursor.tx, event_id=cursor.event_id)
            batch = await events.feed(session, after, BATCH)
            if not batch:
                return 0
            await self._fan_out(session, batch)
            cursor.tx, cursor.event_id = batch[-1].tx, batch[-1].id
            cursor.updated_at = datetime.now(UTC)
        return len(batch)

    async def run_forever(self) -> None:
        """Fan-out, deliveries and mails, each in a loop of its own (a receiver that hangs holds
        up neither new events nor mails): a round every `relay_interval`, at once again while
        there is a backlog; an error is logged and the round tried again."""
        await asyncio.gather(
            self._repeat("fan-out", self.fan_out),
            self._repeat("deliveries", self._dispatch.deliver),
            self._repeat("e-mails", self._dispatch.send),
        )

    async def _repeat(self, name: str, round_: Callable[[], Awaitable[int]]) -> None:
        pause = self._settings.relay_interval.total_seconds()
        while True:
            try:
                busy = await round_()
            except Exception:
                log.exception("relay: a round of %s failed; trying again", name)
                busy = 0
            if not busy:
                await asyncio.sleep(pause)

    async def _fan_out(self, session: AsyncSession, batch: Sequence[EventRecord]) -> None:
        targets = await webhooks.endpoints(session, active_only=True)
        if targets:
            await webhooks.fan_out(session, batch, targets)
        if self.mails:
            await notifications.fan_out(session, batch, self._settings.mail_from)
