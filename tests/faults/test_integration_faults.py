"""A fault while the OMS talks to the world: the worker killed with webhook deliveries in flight
at a slow receiver and customer e-mails being sent, in a module of its own (make test's two
processes each take fault modules). A new worker delivers and sends the rest: no event and no
mail is lost, and nothing arrives twice but what was in flight at the kill (at least once: the
receiver dedupes by `webhook-id`, the mail's duplicate has the same Message-ID)."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.events import public_id
from db.invariants import check
from db.models import EventRecord, NotificationRecord, WebhookAttemptRecord, WebhookDeliveryRecord
from integration.mail.catcher import MailCatcher, read_mailbox
from tests.harness.receiver import Reply, Seen, receiving
from tests.harness.shop import Shop
from tests.harness.webhooks import new_endpoint

pytestmark = pytest.mark.faults

RECOVERY = 120.0  # a dead worker's claims pass on after OMS_RELAY_LEASE (10 s here); a killed
# activity is retried after its start_to_close timeout (30 s)
ORDERS = 6


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def world(catcher: MailCatcher) -> dict[str, str]:
    """The workers mail to the catcher and may deliver to a receiver on loopback."""
    return {
        "OMS_SMTP_URL": catcher.url,
        "OMS_WEBHOOK_ALLOW_PRIVATE": "true",
        "OMS_RELAY_INTERVAL": "PT0.1S",
        # The dead worker's claims pass to the new one after this (rounds here take ~2 s).
        "OMS_RELAY_LEASE": "PT10S",
    }


async def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_what_was_in_flight(
    shop: Shop, catcher: MailCatcher
) -> None:
    hanging = True

    async def answer(seen: Seen) -> Reply:
        """The first POSTs are taken; from the tenth on they hang until the kill (in flight)."""
        slow = hanging and len(receiver.requests) > 10
        return Reply(status=200, delay=60.0 if slow else 0.0)

    async with receiving() as receiver:
        receiver.answer = answer
        await new_endpoint(shop.sessions, shop.stack.settings, receiver.url())
        first = shop.stack.start_worker()
        ids = await shop.place(ORDERS)
        # The orders finish while their events' POSTs hang: deliveries never hold an order up.
        # The kill hits the deliveries (and the mails still unsent), not the orders' own steps.
        await shop.all_finished(ids, within=60)

        async def busy() -> bool:
            return len(receiver.requests) > 12 and len(read_mailbox(catcher.directory)) >= 3

        await shop.until(busy, "deliveries and e-mails under way", within=60)
        in_flight = len(receiver.requests) - await _succeeded_attempts(shop)
        shop.stack.kill_worker(first)
        hanging = False  # the receiver is well again: what the new worker sends is taken
        shop.stack.start_worker()
        await shop.until(lambda: _all_out(shop), "every delivery and e-mail through", RECOVERY)
        posts = Counter(request.headers["webhook-id"] for request in receiver.requests)

    async with shop.sessions() as session:
        every_event = {public_id(e) for e in await session.scalars(select(EventRecord.id))}
        note_ids = set(await session.scalars(select(NotificationRecord.message_id)))
        deliveries = await session.scalar(select(func.count(WebhookDeliveryRecord.id)))
        recorded = await _attempts_per_event(session)
    mails = Counter(mail.message_id for mail in read_mailbox(catcher.directory))

    assert in_flight > 0, "no delivery was in flight at the kill"
    assert set(posts) == every_event  # nothing lost: every event reached the receiver
    assert await _succeeded_attempts(shop) == deliveries == len(every_event)  # one 2xx each
    # At least once: a POST the dead worker sent but never recorded is sent again, once.
    unrecorded = {event: posts[event] - recorded[event] for event in posts}
    assert set(unrecorded.values()) <= {0, 1}
    assert any(unrecorded.values()), "the kill interrupted no delivery"
    assert set(mails) == note_ids  # every e-mail sent
    assert len(note_ids) == 3 * ORDERS  # confirmed, shipped, delivered
    assert max(mails.values()) <= 2  # at most the documented duplicate, same Message-ID
    violations = await check(shop.sessions, require_terminal=True)
    assert violations == [], "\n".join(map(str, violations))
    assert shop.stack.dead_workers() == [], shop.stack.log_tail()


async def _succeeded_attempts(shop: Shop) -> int:
    async with shop.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                WebhookAttemptRecord.status_code >= 200, WebhookAttemptRecord.status_code < 300
            )
        )
    return count or 0


async def _attempts_per_event(session: AsyncSession) -> Counter[str]:
    """Recorded POSTs per event (one endpoint: one delivery per event)."""
    rows = await session.execute(
        select(WebhookDeliveryRecord.event_id, func.count(WebhookAttemptRecord.attempt))
        .join(WebhookAttemptRecord, WebhookAttemptRecord.delivery_id == WebhookDeliveryRecord.id)
        .group_by(WebhookDeliveryRecord.event_id)
    )
    return Counter({public_id(event_id): count for event_id, count in rows})


async def _all_out(shop: Shop) -> bool:
    """Every event fanned out (one endpoint takes them all), no delivery pending, no e-mail
    unsent."""
    async with shop.sessions() as session:
        events = await session.scalar(select(func.count(EventRecord.id)))
        deliveries = await session.scalar(select(func.count(WebhookDeliveryRecord.id)))
        waiting = await session.scalar(
            select(func.count()).where(WebhookDeliveryRecord.status != "succeeded")
        )
        unsent = await session.scalar(
            select(func.count()).where(NotificationRecord.status != "sent")
        )
    return events == deliveries and waiting == 0 and unsent == 0
