"""One webhook POST against real receivers on 127.0.0.1: what comes back as an Attempted, and
what is never called (private addresses, names resolving to them, redirect targets)."""

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.network import LOOPBACK, free_port
from integration import webhooks
from integration.webhooks import RESPONSE_KEPT, UrlRefused, post, resolve_allowed
from tests.harness.receiver import Reply, receiving

pytestmark = pytest.mark.integration

BODY = b'{"type":"order.created"}'


def self_signed_tls(directory: Path, receiver_names: list[str | None]) -> ssl.SSLContext:
    """A TLS server context with a self-signed certificate for "localhost" that notes the SNI."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    context.sni_callback = lambda _sock, server_name, _ctx: receiver_names.append(server_name)
    return context


async def test_a_2xx_is_ok_with_its_status_latency_and_answer() -> None:
    async with receiving(Reply(status=202, body=b'{"thanks":1}')) as receiver:
        attempt = await post(receiver.url(), BODY, {}, allow_private=True)

    assert attempt.ok
    assert attempt.status_code == 202
    assert attempt.error is None
    assert attempt.response == '{"thanks":1}'
    assert 0 <= attempt.latency_ms < 5000
    assert [seen.body for seen in receiver.requests] == [BODY]


async def test_the_request_names_the_original_host_and_carries_the_given_headers() -> None:
    async with receiving() as receiver:
        await post(
            receiver.url(host="localhost", path="/in?x=1"),
            BODY,
            {"webhook-id": "msg_1", "Content-Type": "application/json; charset=utf-8"},
            allow_private=True,
        )

    (seen,) = receiver.requests
    assert seen.target == "/in?x=1"
    assert seen.headers["host"] == f"localhost:{receiver.port}"  # though we called 127.0.0.1
    assert seen.headers["webhook-id"] == "msg_1"
    assert seen.headers["content-type"] == "application/json; charset=utf-8"  # theirs, once
    assert seen.headers["user-agent"].startswith("oms-webhooks/")


async def test_a_long_answer_is_kept_to_its_first_1024_characters() -> None:
    async with receiving(Reply(body=b"x" * 5000)) as receiver:
        attempt = await post(receiver.url(), BODY, {}, allow_private=True)

    assert attempt.response == "x" * RESPONSE_KEPT


async def test_an_answer_that_is_not_utf8_is_kept_with_replacement_characters() -> None:
    async with receiving(Reply(body=b"\xff\xfeok")) as receiver:
        attempt = await post(receiver.url(), BODY, {}, allow_private=True)

    assert attempt.response == "\ufffd\ufffdok"


async def test_a_500_is_a_failure_with_its_status_and_answer() -> None:
    async with receiving(Reply(status=500, body=b"boom")) as receiver:
        attempt = await post(receiver.url(), BODY, {}, allow_private=True)

    assert not attempt.ok
    assert attempt.status_code == 500
    assert attempt.error == "HTTP 500"
    assert attempt.response == "boom"


async def test_a_closed_port_is_a_refused_connection_without_a_status() -> None:
    attempt = await post(f"http://{LOOPBACK}:{free_port()}/", BODY, {}, allow_private=True)

    assert not attempt.ok
    assert attempt.status_code is None
    assert attempt.error == "connection refused"
    assert attempt.response is None


async def test_a_receiver_slower_than_the_timeout_is_a_timeout() -> None:
    async with receiving(Reply(delay=5.0)) as receiver:
        attempt = await post(receiver.url(), BODY, {}, allow_private=True, timeout=0.5)

    assert not attempt.ok
    assert attempt.status_code is None
    assert attempt.error == "timed out after 0.5 s"
    assert 500 <= attempt.latency_ms < 2000


async def test_a_redirect_is_a_failure_naming_where_it_pointed_and_is_not_followed() -> None:
    async with receiving() as elsewhere:
        moved = Reply(status=302, headers=(("Location", elsewhere.url()),))
        async with receiving(moved) as receiver:
            attempt = await post(receiver.url(), BODY, {}, allow_private=True)

    assert not attempt.ok
    assert attempt.status_code == 302
    assert attempt.error == f"redirect not followed: 302 to {elsewhere.url()}"
    assert elsewhere.connections == 0


async def test_a_loopback_address_is_refused_without_connecting() -> None:
    async with receiving() as receiver:
        attempt = await post(receiver.url(scheme="https"), BODY, {}, allow_private=False)

    assert not attempt.ok
    assert attempt.status_code is None
    assert attempt.error == f"refused: the host is a loopback address {LOOPBACK}"
    assert receiver.connections == 0


async def test_a_name_resolving_to_loopback_is_refused_without_connecting() -> None:
    async with receiving() as receiver:
        url = receiver.url(host="localhost", scheme="https")
        attempt = await post(url, BODY, {}, allow_private=False)

    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused: localhost resolves to a loopback address")
    assert receiver.connections == 0


async def test_https_sends_the_host_name_for_sni_and_checks_the_certificate(
    tmp_path: Path,
) -> None:
    names: list[str | None] = []
    async with receiving(tls=self_signed_tls(tmp_path, names)) as receiver:
        url = receiver.url(host="localhost", scheme="https")
        attempt = await post(url, BODY, {}, allow_private=True)

    assert names == ["localhost"]  # though the connection went to 127.0.0.1
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("TLS certificate not accepted: self-signed certificate")
    assert receiver.requests == []


async def test_https_to_a_receiver_whose_certificate_we_trust_is_delivered_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As to a real receiver: the same TLS path, with the test's certificate as the only CA."""
    names: list[str | None] = []
    server = self_signed_tls(tmp_path, names)
    trusting = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    monkeypatch.setattr(webhooks, "_tls", lambda: trusting)
    async with receiving(Reply(status=200), tls=server) as receiver:
        url = receiver.url(host="localhost", scheme="https")
        attempt = await post(url, BODY, {"webhook-id": "msg_1"}, allow_private=True)

    assert attempt.ok, attempt.error
    assert names == ["localhost"]
    assert [(r.headers["host"], r.body) for r in receiver.requests] == [
        (f"localhost:{receiver.port}", BODY)
    ]


async def test_resolving_returns_the_checked_addresses_of_a_name() -> None:
    addresses = await resolve_allowed("http://localhost:8000/", allow_private=True)

    assert ipaddress.ip_address(LOOPBACK) in addresses


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UrlRefused, match="does not resolve"):
        await resolve_allowed("https://nothing.invalid/", allow_private=False)
