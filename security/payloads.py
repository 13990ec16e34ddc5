"""Temporal payloads encrypted with AES-256-GCM: what Temporal stores of an order is ciphertext.

Every client of the project (API, worker, reconciler, benchmark, tests) connects with
`data_converter(settings)`: workflow and activity inputs and results, signals, updates, queries,
memos, summaries and failure messages (`DefaultFailureConverterWithEncodedAttributes`) pass through
`EncryptionCodec`. Search attributes do not (Temporal indexes them): they carry no personal data.

An encrypted payload is the original `Payload` message, serialized, then sealed:

    metadata  encoding = "binary/encrypted", encryption-key-id = "<key id>"
    data      12-byte random nonce + AES-256-GCM ciphertext and tag (the key id is the
              associated data: relabelling a payload with another key id fails, never misreads)

Keys: `OMS_PAYLOAD_KEYS="id:key,id2:key2"` or `OMS_PAYLOAD_KEYS_FILE` (one `id:key` a line, `#`
comments), never both. A key is 32 random bytes in base64, URL-safe (what `make run` writes) or
standard (`openssl rand -base64 32`); padding optional. The FIRST key encrypts, every key decrypts.
Rotation: add the new key last on every process (all can read it), then move it first; keep the
old ones until the histories they sealed are past the namespace's retention.

Secure by default: with no key, `data_converter` refuses (the API and the worker do not start),
so nothing is ever written in plaintext by accident. Reading plaintext is always allowed: a payload
without our encoding passes decode untouched (histories recorded before encryption replay and show
as before), and `reading_converter()` decodes those without any key. Losing a key is loud: a
payload sealed with an unknown key, or one that fails authentication, raises
`UndecryptablePayload` (the worker's task fails and retries until the key is back), never
returns garbage or an empty value.
"""

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from settings import Settings

ENCODING = b"binary/encrypted"  # the name Temporal's samples and tools use for sealed payloads
KEY_ID = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
_KEY_ID_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PayloadKeyError(ValueError):
    """The configured keys cannot be used (malformed, duplicated, missing); the message says why."""


class UndecryptablePayload(ValueError):
    """An encrypted payload this process cannot open: its key is unknown, or it was altered."""


@dataclass(frozen=True)
class PayloadKey:
    """One key: its id (stored in each payload's metadata, in clear) and its 32 secret bytes."""

    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID_SHAPE.fullmatch(self.id):
            raise PayloadKeyError(f"payload key id {self.id!r}: use 1-64 of A-Z a-z 0-9 . _ -")
        if len(self.secret) != KEY_BYTES:
            raise PayloadKeyError(f"payload key {self.id!r} has {len(self.secret)} bytes, not 32")

    def line(self) -> str:
        """`id:key` as the settings take it (URL-safe base64, unpadded)."""
        return f"{self.id}:{base64.urlsafe_b64encode(self.secret).rstrip(b'=').decode()}"


def new_key(now: datetime | None = None) -> PayloadKey:
    """A fresh random key, its id telling when it was made (`20260806-3fa2c1`)."""
    made = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return PayloadKey(f"{made}-{secrets.token_hex(3)}", secrets.token_bytes(KEY_BYTES))


def parse_keys(text: str) -> tuple[PayloadKey, ...]:
    """The keys of `id:key` entries, separated by commas or lines; the first is the current one."""
    entries = [line.partition("#")[0] for line in text.splitlines()]
    items = [item.strip() for entry in entries for item in entry.split(",") if item.strip()]
    keys = tuple(_parse_entry(item) for item in items)
    ids = [key.id for key in keys]
    if duplicated := sorted({key_id for key_id in ids if ids.count(key_id) > 1}):
        raise PayloadKeyError(f"payload key ids must be unique: {', '.join(duplicated)}")
    return keys


def _parse_entry(item: str) -> PayloadKey:
    key_id, colon, encoded = item.partition(":")
    if not colon:
        raise PayloadKeyError("a payload key is written id:base64key")
    standard = encoded.strip().replace("-", "+").replace("_", "/")  # URL-safe or standard
    try:
        secret = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error:
        raise PayloadKeyError(f"payload key {key_id.strip()!r} is not base64") from None
    return PayloadKey(key_id.strip(), secret)


def load_keys(settings: Settings) -> tuple[PayloadKey, ...]:
    """The configured keys, current first: OMS_PAYLOAD_KEYS or OMS_PAYLOAD_KEYS_FILE (or none)."""
    if settings.payload_keys is not None and settings.payload_keys_file is not None:
        raise PayloadKeyError("set OMS_PAYLOAD_KEYS or OMS_PAYLOAD_KEYS_FILE, not both")
    if settings.payload_keys is not None:
        return parse_keys(settings.payload_keys.get_secret_value())
    if settings.payload_keys_file is not None:
        try:
            return parse_keys(settings.payload_keys_file.read_text())
        except OSError as error:
            raise PayloadKeyError(f"OMS_PAYLOAD_KEYS_FILE: {error}") from None
    return ()


class EncryptionCodec(PayloadCodec):
    """Seals payloads with the first key; opens them with whichever key their metadata names."""

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        super().__init__()
        self._current = keys[0].id if keys else None
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}

    @property
    def key_ids(self) -> list[str]:
        """The ids of the keys it holds, the encrypting one first."""
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(payload) for payload in payloads]

    def seal(self, payload: Payload) -> Payload:
        """`payload` encrypted with the current key (one already sealed is left as it is)."""
        if is_sealed(payload):
            return payload
        if self._current is None:
            raise PayloadKeyError("no payload key configured: refusing to write plaintext")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(
            nonce, payload.SerializeToString(), self._current.encode()
        )
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._current.encode()}, data=nonce + sealed
        )

    def open(self, payload: Payload) -> Payload:
        """The original of a sealed payload; a plaintext one as it is."""
        if not is_sealed(payload):
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(self._ciphers) or "none"
            raise UndecryptablePayload(
                f"payload encrypted with key {key_id!r}, which is not configured (keys: {known}):"
                " restore it to the payload keys, which must keep a key until its histories age out"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        except InvalidTag:
            raise UndecryptablePayload(
                f"payload encrypted with key {key_id!r} fails authentication: altered or corrupt"
            ) from None


def is_sealed(payload: Payload) -> bool:
    """Whether `payload` is one of ours (encrypted), by its metadata."""
    return payload.metadata.get("encoding") == ENCODING


def converter_for(keys: Iterable[PayloadKey]) -> DataConverter:
    """The default JSON converter, its payloads and failures encrypted with `keys`."""
    return replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(tuple(keys)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def data_converter(settings: Settings) -> DataConverter:
    """The converter of every Temporal client of the project; refuses to run without a key."""
    keys = load_keys(settings)
    if not keys:
        raise PayloadKeyError(
            "no Temporal payload key: set OMS_PAYLOAD_KEYS (id:base64key) or OMS_PAYLOAD_KEYS_FILE"
            " (make run generates one under .oms/; see README, Payload encryption)"
        )
    return converter_for(keys)


def reading_converter() -> DataConverter:
    """A converter without keys: reads plaintext histories; refuses to write, and to open a
    sealed payload."""
    return converter_for(())
