"""Webhook signatures as a receiver checks them (the Standard Webhooks library), and the URLs we
refuse to save: anything but https, credentials in the URL, and addresses inside our network."""

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from integration.webhooks import UrlRefused, check_url, new_secret, signature_headers

BODY = b'{"type":"order.created","data":{"order":{"id":"o-1"}}}'


def signed(*secrets: str, body: bytes = BODY) -> dict[str, str]:
    return signature_headers("msg_1", datetime.now(UTC), body, secrets)


def test_a_receiver_verifies_the_headers_with_the_standard_webhooks_library() -> None:
    secret = new_secret()

    payload = Webhook(secret).verify(BODY, signed(secret))

    assert payload == {"type": "order.created", "data": {"order": {"id": "o-1"}}}


def test_the_headers_carry_the_message_id_and_the_time_in_whole_seconds() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)

    headers = signature_headers("msg_7", at, BODY, [new_secret()])

    assert headers["webhook-id"] == "msg_7"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")


def test_during_a_rotation_a_receiver_with_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()

    headers = signed(old, new)

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, headers) is not None
    assert Webhook(new).verify(BODY, headers) is not None


def test_a_tampered_body_fails_verification() -> None:
    secret = new_secret()
    headers = signed(secret)

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"o-1", b"o-2"), headers)


def test_a_receiver_with_another_secret_does_not_verify() -> None:
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, signed(new_secret()))


def test_a_new_secret_is_whsec_and_32_random_bytes_in_base64() -> None:
    secret = new_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


def test_a_naive_timestamp_is_refused_rather_than_signed_as_some_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        signature_headers("msg_1", datetime(2026, 1, 1), BODY, [new_secret()])  # noqa: DTZ001


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "https://"),
        ("file:///etc/passwd", "https://"),
        ("http://example.com/hook", "https://"),
        ("example.com/hook", "https://"),
        ("https://user:pass@example.com/hook", "user name or password"),
        ("https:///hook", "no host"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://[::1]/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://100.64.0.1/hook", "shared"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[fc00::1]/hook", "private"),
        ("https://[fec0::1]/hook", "private"),
        ("https://[64:ff9b::a01:203]/hook", "private"),  # NAT64 of 10.1.2.3
        ("https://2130706433/hook", "loopback"),  # 127.0.0.1 as one number
        ("https://0x7f.1/hook", "loopback"),
    ],
)
def test_a_url_we_would_never_call_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(UrlRefused, match=why):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        "https://[::ffff:169.254.169.254]/",
    ],
)
def test_cloud_metadata_addresses_are_refused_even_where_private_networks_are_allowed(
    url: str,
) -> None:
    with pytest.raises(UrlRefused, match="metadata"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://10.0.0.1/", "file:///etc/passwd", "gopher://10.0.0.1/"])
def test_other_schemes_are_refused_even_where_private_networks_are_allowed(url: str) -> None:
    with pytest.raises(UrlRefused, match="https:// or http://"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/", "https://hooks.example.com:8443/oms?x=1", "https://[2606:4700::1]/"],
)
def test_a_public_https_url_is_accepted(url: str) -> None:
    check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hook", "https://10.1.2.3/", "http://[::1]/", "http://localhost/"]
)
def test_private_addresses_and_plain_http_are_accepted_where_allowed(url: str) -> None:
    check_url(url, allow_private=True)
