"""One POST of an event to an endpoint: the body in the Standard Webhooks envelope, signed with
the endpoint's secret(s), sent by integration/webhooks.py (which checks the address again). Used by
the relay's first attempt (integration/dispatch.py) and by the delivery workflow's activity."""

import json
from contextlib import suppress
from datetime import UTC, datetime

from db import events
from db.models import EventRecord, WebhookEndpointRecord
from db.webhooks import SECRET_PURPOSE, Outcome
from integration import webhooks as http
from security.sealed import Unsealable, unseal
from settings import Settings

UNREADABLE = (
    "the signing secret was sealed with another OMS_SECRET_KEY: rotate the endpoint's secret"
)


async def post_event(
    target: WebhookEndpointRecord, event: EventRecord, settings: Settings
) -> Outcome:
    """Sign and POST the event once; how it went, as the delivery records it."""
    body = json.dumps(events.envelope(event), separators=(",", ":")).encode()
    now = datetime.now(UTC)
    try:
        signing = secrets_of(target, settings, now)
    except Unsealable:  # the server secret changed since: nothing can be signed
        return Outcome(ok=False, status_code=None, latency_ms=0, error=UNREADABLE, response=None)
    headers = http.signature_headers(events.public_id(event.id), now, body, signing)
    sent = await http.post(target.url, body, headers, allow_private=settings.webhook_allow_private)
    return Outcome(
        ok=sent.ok,
        status_code=sent.status_code,
        latency_ms=sent.latency_ms,
        error=sent.error,
        response=sent.response,
    )


def secrets_of(target: WebhookEndpointRecord, settings: Settings, now: datetime) -> list[str]:
    """The endpoint's secret, and the one it replaced while their overlap lasts (unless it was
    sealed under an earlier server secret: then the new one alone)."""
    server = settings.server_secret()
    current = [unseal(target.secret, server, SECRET_PURPOSE)]
    if target.previous_secret is not None and (target.previous_until or now) > now:
        with suppress(Unsealable):
            current.append(unseal(target.previous_secret, server, SECRET_PURPOSE))
    return current
