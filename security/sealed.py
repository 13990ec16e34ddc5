"""Secrets the OMS must read back (webhook signing secrets), sealed at rest with the server secret.

AES-256-GCM (`cryptography`) under a key derived from `OMS_SECRET_KEY` with HKDF-SHA256 and a
purpose label, so a database dump alone reveals no signing secret, and a sealed value of one
purpose never opens as another. Stored as `v1.<base64url(nonce + ciphertext + tag)>`.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1."
NONCE_BYTES = 12


class Unsealable(ValueError):
    """The value was not sealed with this server secret for this purpose (or was altered)."""


def seal(plaintext: str, server_secret: bytes, purpose: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(server_secret, purpose)).encrypt(nonce, plaintext.encode(), None)
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, server_secret: bytes, purpose: str) -> str:
    if not stored.startswith(VERSION):
        raise Unsealable("not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(VERSION))
        key = AESGCM(_key(server_secret, purpose))
        return key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
    except (InvalidTag, ValueError) as err:
        raise Unsealable("sealed with another server secret, or altered") from err


def _key(server_secret: bytes, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"oms:{purpose}".encode())
    return hkdf.derive(server_secret)
