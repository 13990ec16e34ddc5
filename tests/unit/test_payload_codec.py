"""The payload codec (security/payloads.py): what Temporal would store of an order is ciphertext,
every configured key opens it, plaintext reads as before, and a lost key fails loudly."""

import base64
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from security.payloads import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadKey,
    PayloadKeyError,
    UndecryptablePayload,
    converter_for,
    data_converter,
    load_keys,
    parse_keys,
    reading_converter,
)
from settings import Settings
from tests.factories import make_order_input
from tests.harness.keys import TEST_PAYLOAD_KEYS
from workflows.contracts import OrderInput

OLD = PayloadKey("old", bytes(range(32)))
NEW = PayloadKey("new", bytes(range(32, 64)))
ORDER = make_order_input(payment_token="tok_secret_4242")
PERSONAL = [
    ORDER.shipping_address.name,
    ORDER.shipping_address.line1,
    ORDER.shipping_address.city,
    ORDER.payment_token,
]


async def sealed(order: OrderInput, *keys: PayloadKey) -> Payload:
    [payload] = await converter_for(keys).encode([order])
    return payload


async def opened(payload: Payload, *keys: PayloadKey) -> OrderInput:
    [order] = await converter_for(keys).decode([payload], [OrderInput])
    assert isinstance(order, OrderInput)
    return order


async def test_an_order_input_is_stored_as_ciphertext_naming_its_key() -> None:
    payload = await sealed(ORDER, NEW, OLD)

    stored = payload.SerializeToString()
    assert [text for text in PERSONAL if text.encode() in stored] == []
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID] == b"new"


async def test_the_configured_keys_open_what_they_sealed() -> None:
    assert await opened(await sealed(ORDER, NEW, OLD), NEW, OLD) == ORDER


async def test_after_rotation_payloads_of_the_old_key_and_of_the_new_one_both_open() -> None:
    before = await sealed(ORDER, OLD)
    after = await sealed(ORDER, NEW, OLD)

    assert after.metadata[KEY_ID] == b"new"
    assert await opened(before, NEW, OLD) == await opened(after, NEW, OLD) == ORDER


async def test_a_payload_of_a_key_no_longer_configured_fails_naming_that_key() -> None:
    payload = await sealed(ORDER, OLD)

    with pytest.raises(
        UndecryptablePayload, match=r"key 'old', which is not configured \(keys: new"
    ):
        await opened(payload, NEW)


async def test_an_altered_payload_fails_authentication() -> None:
    payload = await sealed(ORDER, OLD)
    payload.data = payload.data[:-1] + bytes([payload.data[-1] ^ 1])

    with pytest.raises(UndecryptablePayload, match="fails authentication"):
        await opened(payload, OLD)


async def test_a_payload_relabelled_with_another_key_id_fails_rather_than_misreads() -> None:
    twin = PayloadKey("twin", OLD.secret)  # even the same secret: the key id is authenticated
    payload = await sealed(ORDER, OLD)
    payload.metadata[KEY_ID] = b"twin"

    with pytest.raises(UndecryptablePayload, match="fails authentication"):
        await opened(payload, twin, OLD)


async def test_plaintext_payloads_from_before_encryption_read_as_they_are() -> None:
    [plain] = await DataConverter.default.encode([ORDER])

    assert await opened(plain, NEW) == ORDER
    assert (await reading_converter().decode([plain], [OrderInput])) == [ORDER]


async def test_without_a_key_nothing_is_written() -> None:
    with pytest.raises(PayloadKeyError, match="refusing to write plaintext"):
        await reading_converter().encode([ORDER])
    with pytest.raises(PayloadKeyError, match="OMS_PAYLOAD_KEYS"):
        data_converter(Settings(payload_keys=None, payload_keys_file=None))


async def test_sealing_is_not_repeated_and_each_seal_is_unique() -> None:
    codec = EncryptionCodec([OLD])
    payload = await sealed(ORDER, OLD)

    assert codec.seal(payload) is payload
    assert (await sealed(ORDER, OLD)).data != payload.data  # a fresh nonce every time


async def test_failure_messages_are_encrypted_too() -> None:
    converter, failure = converter_for([OLD]), Failure()

    await converter.encode_failure(ApplicationError("card of Ada Lovelace declined"), failure)

    assert b"Ada Lovelace" not in failure.SerializeToString()
    assert str(await converter.decode_failure(failure)) == "card of Ada Lovelace declined"


def test_keys_are_id_colon_base64_urlsafe_or_standard_padded_or_not() -> None:
    secret = bytes([0xFB] * 32)  # encodes with the characters the two alphabets differ in
    standard = base64.b64encode(secret).decode()
    urlsafe = base64.urlsafe_b64encode(secret).decode().rstrip("=")
    assert "+" in standard
    assert "-" in urlsafe

    keys = parse_keys(f"a:{standard}, b:{urlsafe}")

    assert [(key.id, key.secret) for key in keys] == [("a", secret), ("b", secret)]


def test_a_key_file_takes_a_key_a_line_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "payload.keys"
    path.write_text(f"# current first\n{NEW.line()}\n\n{OLD.line()}  # until March\n")

    keys = load_keys(Settings(payload_keys=None, payload_keys_file=path))

    assert keys == (NEW, OLD)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nocolon", "id:base64key"),
        ("a:not base64!", "not base64"),
        (f"a:{base64.b64encode(bytes(16)).decode()}", "16 bytes, not 32"),
        (f"{OLD.line()},{OLD.line()}", "unique: old"),
        (f"bad id:{base64.b64encode(bytes(32)).decode()}", "payload key id"),
    ],
)
def test_malformed_keys_are_refused_saying_why(text: str, problem: str) -> None:
    with pytest.raises(PayloadKeyError, match=problem):
        parse_keys(text)


def test_keys_come_from_the_variable_or_the_file_never_both(tmp_path: Path) -> None:
    both = Settings(payload_keys=TEST_PAYLOAD_KEYS, payload_keys_file=tmp_path / "k")

    with pytest.raises(PayloadKeyError, match="not both"):
        load_keys(both)
    with pytest.raises(PayloadKeyError, match="OMS_PAYLOAD_KEYS_FILE"):
        load_keys(Settings(payload_keys=None, payload_keys_file=tmp_path / "missing"))


def test_a_key_never_shows_its_secret() -> None:
    assert repr(OLD) == "PayloadKey(id='old')"
