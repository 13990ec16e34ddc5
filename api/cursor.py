"""Opaque page cursors: the keyset of the last order shown, as URL-safe base64 JSON."""

import base64
import binascii
import json
from datetime import datetime

from db.orders import PagePosition


class BadCursor(ValueError):
    """The cursor was not made by `encode_cursor`."""


def encode_cursor(position: PagePosition) -> str:
    """The cursor of the page after `position`."""
    raw = json.dumps({"c": position.created_at.isoformat(), "i": position.order_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> PagePosition:
    """The position a cursor stands for; BadCursor for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created_at = datetime.fromisoformat(raw["c"])
        order_id = raw["i"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise BadCursor(cursor) from err
    if created_at.tzinfo is None or not isinstance(order_id, str):
        raise BadCursor(cursor)
    return PagePosition(created_at=created_at, order_id=order_id)
