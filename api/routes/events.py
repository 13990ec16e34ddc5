"""The event feed: every business fact in commit order, for integrations that poll."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import grants
from api.cursor import BadCursor, decode_event_cursor, encode_event_cursor
from api.deps import SessionDep
from api.errors import field_error, invalid
from api.integration_mapping import to_event_public
from api.integration_schemas import EventsPublic
from db import events
from integration.catalog import EventType
from security.roles import Scope

router = APIRouter(tags=["events"])


@router.get("/v1/events", dependencies=[grants(Scope.EVENTS_READ)])
async def list_events(
    session: SessionDep,
    after: Annotated[str | None, Query(max_length=512)] = None,
    types: Annotated[
        str | None, Query(max_length=2000, examples=["order.shipped,order.delivered"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventsPublic:
    """Events after the cursor `after` (from the first without one), oldest commit first, of
    the comma-separated `types` only if given. Follow `next_cursor`: never a gap, never a
    repeat, even when transactions commit out of order (README "Events and webhooks")."""
    position = _position(after)
    found = await events.feed(session, position, limit, _types(types))
    next_cursor = encode_event_cursor(events.position_of(found[-1])) if found else after
    return EventsPublic(items=[to_event_public(e) for e in found], next_cursor=next_cursor)


def _types(asked: str | None) -> list[str] | None:
    if asked is None:
        return None
    names = [name.strip() for name in asked.split(",") if name.strip()]
    known = {member.value for member in EventType}
    if unknown := [name for name in names if name not in known]:
        msg = f"unknown event type {unknown[0]!r}: see README 'Events and webhooks'"
        raise invalid([field_error(("query", "types"), msg, "unknown_event_type", asked)])
    return names or None


def _position(cursor: str | None) -> events.FeedPosition | None:
    if cursor is None:
        return None
    try:
        return decode_event_cursor(cursor)
    except BadCursor:
        msg = "not a cursor from this API"
        raise invalid([field_error(("query", "after"), msg, "bad_cursor", cursor)]) from None
