"""Opaque page cursors: the keyset of the last order (or return, delivery) shown, or the feed's
position, as URL-safe base64 JSON."""

import base64
import binascii
import json
from datetime import datetime

from db import returns
from db.events import FeedPosition
from db.orders import PagePosition
from db.webhooks import DeliveryPosition


class BadCursor(ValueError):
    """The cursor was not made by `encode_cursor` (or `encode_return_cursor`)."""


def encode_cursor(position: PagePosition) -> str:
    """The cursor of the page after `position`."""
    return _encode(position.created_at, position.order_id)


def decode_cursor(cursor: str) -> PagePosition:
    """The position a cursor stands for; BadCursor for anything else."""
    created_at, order_id = _decode(cursor)
    return PagePosition(created_at=created_at, order_id=order_id)


def encode_return_cursor(position: returns.PagePosition) -> str:
    """The cursor of the page of returns after `position`."""
    return _encode(position.created_at, position.return_id)


def decode_return_cursor(cursor: str) -> returns.PagePosition:
    created_at, return_id = _decode(cursor)
    return returns.PagePosition(created_at=created_at, return_id=return_id)


def encode_event_cursor(position: FeedPosition) -> str:
    """The feed's cursor: the (transaction, id) of the last event a consumer has."""
    raw = json.dumps({"t": position.tx, "e": position.event_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_event_cursor(cursor: str) -> FeedPosition:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        tx, event_id = raw["t"], raw["e"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise BadCursor(cursor) from err
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (tx, event_id)):
        raise BadCursor(cursor)
    return FeedPosition(tx=tx, event_id=event_id)


def encode_delivery_cursor(position: DeliveryPosition) -> str:
    return _encode(position.created_at, position.delivery_id)


def decode_delivery_cursor(cursor: str) -> DeliveryPosition:
    created_at, delivery_id = _decode(cursor)
    return DeliveryPosition(created_at=created_at, delivery_id=delivery_id)


def _encode(created_at: datetime, row_id: str) -> str:
    raw = json.dumps({"c": created_at.isoformat(), "i": row_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created_at = datetime.fromisoformat(raw["c"])
        row_id = raw["i"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise BadCursor(cursor) from err
    if created_at.tzinfo is None or not isinstance(row_id, str):
        raise BadCursor(cursor)
    return created_at, row_id
