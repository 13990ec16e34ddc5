"""API keys: 256 random bits behind a visible prefix, stored only as a keyed hash.

A fast hash is right here: the key is random, so there is nothing to guess, and HMAC keyed by the
server secret means a copy of the database alone cannot even test a candidate key. (Passwords,
which people choose, get a slow hash instead: security/passwords.py.)"""

import hashlib
import hmac
import re
import secrets

PREFIX = "oms_sk_"
_SHAPE = re.compile(rf"^{PREFIX}[A-Za-z0-9_-]{{43}}$")


def new_key() -> str:
    """A fresh key: the prefix and 32 random bytes, URL-safe base64 (43 characters)."""
    return PREFIX + secrets.token_urlsafe(32)


def well_formed(key: str) -> bool:
    """Whether `key` has the shape of one of ours (checked before touching the database)."""
    return _SHAPE.fullmatch(key) is not None


def key_hash(key: str, secret: bytes) -> str:
    """What the database stores and looks keys up by: HMAC-SHA256 under the server secret."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
