"""Outbound webhooks: which URLs we will call, how a delivery is signed, and one POST.

A webhook URL is chosen by a customer, so calling it risks server-side request forgery: the URL
could point into our own network or at the cloud's metadata service (which hands out
credentials). So a URL is checked when it is saved (`check_url`); at every delivery its host is
resolved again and every address checked (`resolve_allowed`); and the request goes to an address
that was checked (`post`), so a DNS answer cannot change between the check and the call.
"""

import asyncio
import base64
import codecs
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from math import floor
from secrets import token_bytes

import httpx
from standardwebhooks import Webhook

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESPONSE_KEPT = 1024  # characters of a receiver's answer kept with the attempt
USER_AGENT = "oms-webhooks/1"
SECRET_PREFIX = "whsec_"  # Standard Webhooks' marker of a signing secret

# Instance metadata services (AWS, GCP, Azure, Oracle; AWS over IPv6; Alibaba): refused even where
# private networks are allowed, because they hand out the machine's cloud credentials.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT: not is_private
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


class UrlRefused(ValueError):
    """A webhook URL we will not call; str(err) says why in plain words (shown in a 422)."""


def check_url(url: str, allow_private: bool) -> None:
    """Refuse (UrlRefused) a URL we would never call, before it is saved: no DNS here."""
    _checked(url, allow_private)


async def resolve_allowed(url: str, allow_private: bool) -> list[IPAddress]:
    """The host's addresses, refusing the URL if any of them is forbidden (one bad answer is enough:
    which one a connection would use is not ours to choose) or if the host does not resolve."""
    parsed = _checked(url, allow_private)
    addresses = await _resolve(parsed)
    for address in addresses:
        if (why := _refusal(address, allow_private)) is not None:
            raise UrlRefused(f"{parsed.host} resolves to {why}")
    return addresses


def new_secret() -> str:
    """A new signing secret in the Standard Webhooks format, which receivers' libraries read."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode("ascii")


def signature_headers(
    message_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """The Standard Webhooks headers, signed with every secret: during a rotation's overlap a
    receiver may hold either the old or the new one, and each finds its own signature."""
    if timestamp.tzinfo is None:
        raise ValueError("the timestamp must be timezone-aware (its seconds are signed)")
    if not secrets:
        raise ValueError("a webhook is signed with at least one secret")
    signatures = [Webhook(secret).sign(message_id, timestamp, body) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(timestamp.timestamp())),  # as Webhook.sign rounds it
        "webhook-signature": " ".join(signatures),
    }


@dataclass(frozen=True, kw_only=True)
class Attempted:
    """One delivery attempt as the delivery log shows it; ok only for a 2xx."""

    ok: bool
    status_code: int | None  # None when no response came (refused, timeout, DNS, SSRF refusal)
    latency_ms: int
    error: str | None  # why it failed, in plain words
    response: str | None  # the start of the answer, decoded leniently


async def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    allow_private: bool,
    timeout: float = 10.0,  # noqa: ASYNC109 (the interface's; applied with asyncio.timeout)
) -> Attempted:
    """POST `body` to a checked address of `url`; whatever the network or the receiver does is an
    Attempted (ok=False), never an exception: a delivery's outcome is data to record and retry."""
    started = time.monotonic()
    status: int | None = None
    text: str | None = None
    try:
        async with asyncio.timeout(timeout):  # the whole call: DNS, connect, send and answer
            status, location, text = await _deliver(url, body, headers, allow_private)
        error = _status_error(status, location)
    except UrlRefused as err:
        error = f"refused: {err}"
    except (TimeoutError, httpx.TimeoutException):
        error = f"timed out after {timeout:g} s"
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as err:
        error = _failure(err)
    latency_ms = round((time.monotonic() - started) * 1000)
    return Attempted(
        ok=error is None, status_code=status, latency_ms=latency_ms, error=error, response=text
    )


def _checked(url: str, allow_private: bool) -> httpx.URL:
    """The URL parsed by httpx, the same parser that sends it: two parsers could disagree on the
    host (a classic way around URL checks)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise UrlRefused(f"not a valid URL: {err}") from err
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise UrlRefused(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if not parsed.raw_host:
        raise UrlRefused("the URL has no host")
    if parsed.userinfo:
        raise UrlRefused("the URL must not contain a user name or password")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UrlRefused(f"the port {parsed.port} does not exist")
    literal = _ip_literal(parsed.raw_host.decode("ascii"))
    if literal is not None and (why := _refusal(literal, allow_private)) is not None:
        raise UrlRefused(f"the host is {why}")
    return parsed


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names without DNS, including the numeric forms the resolver reads as
    IPv4 ("2130706433" and "0x7f.1" are 127.0.0.1), so that they are refused when saved too."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


async def _resolve(url: httpx.URL) -> list[IPAddress]:
    """The host's addresses in the resolver's order (asyncio runs getaddrinfo in a thread)."""
    host = url.raw_host.decode("ascii")
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise UrlRefused(f"{url.host} does not resolve ({err.strerror})") from err
    except UnicodeError as err:  # a label too long for IDNA, say
        raise UrlRefused(f"{url.host} is not a valid host name") from err
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
    if not addresses:
        raise UrlRefused(f"{url.host} does not resolve")
    return addresses


def _refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why we will not call `address`, or None: metadata services never, the rest unless private
    networks are allowed (a self-hosted receiver next to the OMS, or a developer's machine)."""
    judged = _as_judged(address)
    if judged in METADATA:
        return f"the cloud metadata address {address}"
    kind = None if allow_private else _kind(judged)
    return None if kind is None else f"{kind} {address}"


def _as_judged(address: IPAddress) -> IPAddress:
    """The address to judge: the IPv4 one an IPv6 address carries (::ffff:127.0.0.1 reaches
    loopback, and 3.11 calls every mapped address reserved, public ones too), without a zone."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return ipaddress.IPv6Address(int(address))  # drops a %zone, which would defeat equality


def _kind(address: IPAddress) -> str | None:
    """The kind of a non-public address, or None. Python 3.11's is_private misses 100.64.0.0/10
    and IPv6 site-local (fec0::/10), so they are named here; not is_global catches the rest."""
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    kinds = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_multicast, "a multicast address"),
        (address in SHARED, "a shared (carrier-grade NAT) address"),
        (address.is_private or site_local, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "a non-public address"),
    )
    return next((kind for matches, kind in kinds if matches), None)


async def _deliver(
    url: str, body: bytes, headers: Mapping[str, str], allow_private: bool
) -> tuple[int, str | None, str]:
    """Status, Location and the start of the answer from the first checked address that accepts
    the connection; a refused connection sent nothing, so the next address is safe to try."""
    addresses = await resolve_allowed(url, allow_private)
    target = httpx.URL(url)
    # No proxy from the environment (it would resolve the host itself); no per-phase timeouts:
    # post's asyncio.timeout bounds the whole call.
    tls = _tls()
    async with httpx.AsyncClient(
        timeout=None, follow_redirects=False, trust_env=False, verify=tls
    ) as c:
        for address in addresses[:-1]:
            try:
                return await _exchange(c, target, address, body, headers)
            except httpx.ConnectError:
                continue
        return await _exchange(c, target, addresses[-1], body, headers)


@cache
def _tls() -> ssl.SSLContext:
    """The certificate check's context, built once: building it (the CA bundle) costs ~20 ms of
    CPU, which per POST was most of a delivery's cost. A client per POST still: a pool keyed by
    the checked IP could lend one host's verified TLS connection to another host on that IP."""
    return httpx.create_ssl_context(trust_env=False)


async def _exchange(
    client: httpx.AsyncClient,
    target: httpx.URL,
    address: IPAddress,
    body: bytes,
    headers: Mapping[str, str],
) -> tuple[int, str | None, str]:
    """One request to `address` that names the original host in the Host header and, for https,
    in TLS (SNI and the certificate check: httpcore's "sni_hostname" request extension)."""
    request = client.build_request(
        "POST",
        target.copy_with(host=str(address)),
        content=body,
        headers=_request_headers(target, headers),
        extensions={"sni_hostname": target.raw_host.decode("ascii")},
    )
    response = await client.send(request, stream=True)
    try:
        return response.status_code, response.headers.get("location"), await _kept(response)
    finally:
        await response.aclose()


def _request_headers(target: httpx.URL, given: Mapping[str, str]) -> httpx.Headers:
    """Ours, then the caller's (replacing ours whatever their case), then the original Host."""
    headers = httpx.Headers({"content-type": "application/json", "user-agent": USER_AGENT})
    headers["accept-encoding"] = "identity"  # the answer is kept raw: nothing to decompress
    headers.update(given)
    headers["host"] = target.netloc.decode("ascii")
    return headers


async def _kept(response: httpx.Response) -> str:
    """The first RESPONSE_KEPT characters, reading no further than needed. Always UTF-8 with
    replacement: a receiver's charset could name any codec (zlib, base64); this is for people."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = ""
    async for chunk in response.aiter_raw():
        text += decoder.decode(chunk)
        if len(text) >= RESPONSE_KEPT:
            break
    else:
        text += decoder.decode(b"", final=True)
    return text[:RESPONSE_KEPT]


def _status_error(status: int, location: str | None) -> str | None:
    """None for a 2xx; otherwise why the receiver's answer is not an acceptance."""
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        where = f" to {location}" if location else " (no Location)"
        return f"redirect not followed: {status}{where}"
    return f"HTTP {status}"


def _failure(err: Exception) -> str:
    """Plain words for a failure below HTTP: the TLS or operating system reason where there is one
    ("connection refused"), else httpx's own message."""
    root = _root(err)
    if isinstance(root, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {root.verify_message}"
    if isinstance(root, ssl.SSLError):
        return f"TLS failed: {root.reason or root}"
    if isinstance(root, OSError) and root.errno is not None:  # not asyncio's "Connect call failed"
        return os.strerror(root.errno).lower()
    return str(err) or type(err).__name__


def _root(err: BaseException) -> BaseException:
    """The first cause: httpx wraps httpcore's error, which wraps anyio's, which wraps the OS's
    (httpcore raises its own while handling the original, so that one is only the context)."""
    while True:
        if isinstance(err, BaseExceptionGroup):
            err = err.exceptions[0]
        elif (cause := err.__cause__ or err.__context__) is not None:
            err = cause
        else:
            return err
