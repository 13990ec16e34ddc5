"""The console's secrets: session ids, and the CSRF tokens its forms carry.

A session id is 256 random bits in the `oms_session` cookie; the database keeps only its SHA-256.
Every state-changing form carries `csrf` = HMAC-SHA256(server secret, purpose + the session id):
bound to the session (a new login makes a new one, an old page's token stops working) and
computable only by the server, which holds the secret and reads the id from the HttpOnly cookie.
The login form, before any session, uses the same construction over a random nonce kept in its
own cookie (a signed double-submit cookie): a cross-site page can neither read that cookie nor
forge the token that matches it.
"""

import hashlib
import hmac
import re
import secrets
from typing import TypeGuard

from settings import Settings

_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
SESSION_PURPOSE = b"oms-console-session-csrf\x00"
LOGIN_PURPOSE = b"oms-console-login-csrf\x00"


def new_token() -> str:
    """A session id or a login nonce: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> TypeGuard[str]:
    return token is not None and _SHAPE.fullmatch(token) is not None


def digest(token: str) -> str:
    """What the database stores for a session id (SHA-256: the id is random, not guessable)."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(settings: Settings, purpose: bytes, binding: str) -> str:
    """The token a form carries for `binding` (a session id, or a login nonce)."""
    mac = hmac.new(settings.server_secret(), purpose + binding.encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_matches(settings: Settings, purpose: bytes, binding: str, presented: object) -> bool:
    """Whether the form's token is the one for `binding`."""
    return same(csrf_token(settings, purpose, binding), presented)


def same(expected: str, presented: object) -> bool:
    """Whether a form field holds `expected` (compared in constant time)."""
    if not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
