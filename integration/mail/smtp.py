"""Customer e-mails over SMTP: where the server is (a URL), the MIME message, the sending.

The message is built by the standard library's `email` package (policy.default), never by hand:
it folds and encodes headers, picks the transfer encoding of each part and refuses a header with a
line break in it. Sending errors propagate: the caller is an activity, and Temporal retries it.
"""

import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import aiosmtplib

from integration.mail.render import Rendered

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
FORMS = "smtp://[user:password@]host[:port][?starttls=true] or smtps://[user:password@]host[:port]"
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """An SMTP server to send through: plain, upgraded with STARTTLS, or TLS from the start."""

    host: str
    port: int
    starttls: bool
    implicit_tls: bool
    username: str | None
    password: str | None = field(repr=False)  # a config may be logged; its password may not

    @classmethod
    def from_url(cls, url: str) -> "SmtpConfig":
        """Read `FORMS`; user and password are percent-decoded. Errors never repeat the URL: it
        may hold a password."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"an SMTP URL has the form {FORMS}; this one's scheme is not")
        if not parts.hostname:
            raise ValueError(f"an SMTP URL names a host: {FORMS}")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError(f"an SMTP URL has no path or fragment: {FORMS}")
        implicit_tls = parts.scheme == "smtps"
        username, password = _credentials(parts)
        return cls(
            host=parts.hostname,
            port=_port(parts),
            starttls=_starttls(parts.query, implicit_tls),
            implicit_tls=implicit_tls,
            username=username,
            password=password,
        )


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        raise ValueError("an SMTP URL's port is a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("an SMTP URL's port is a number from 1 to 65535")
    return DEFAULT_PORTS[parts.scheme] if port is None else port


def _credentials(parts: SplitResult) -> tuple[str | None, str | None]:
    """Both or neither: a user without a password (or the reverse) is a typo, not a choice."""
    if parts.username is None and parts.password is None:
        return None, None
    if not parts.username or not parts.password:
        raise ValueError(f"an SMTP URL gives both a user and a password, or neither: {FORMS}")
    return unquote(parts.username), unquote(parts.password)


def _starttls(query: str, implicit_tls: bool) -> bool:
    """The one query parameter, `starttls=true|false`; smtps is TLS from the start already."""
    options = parse_qs(query, keep_blank_values=True)
    if unknown := sorted(set(options) - {"starttls"}):
        raise ValueError(f"an SMTP URL takes only the option starttls, not {', '.join(unknown)}")
    values = options.get("starttls", ["false"])
    if len(values) != 1 or values[0].lower() not in BOOLEANS:
        raise ValueError("an SMTP URL's starttls is true or false")
    starttls = BOOLEANS[values[0].lower()]
    if starttls and implicit_tls:
        raise ValueError("smtps:// is TLS from the start: starttls does not apply")
    return starttls


def build_message(rendered: Rendered, to: str, sender: str, message_id: str) -> EmailMessage:
    """A multipart/alternative message: the text part first, so the HTML part is preferred.

    The Message-ID is the caller's (derived from the event), so a retried send carries the same
    one and a receiving server or mail client can recognise the duplicate."""
    if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
        raise ValueError(f"a Message-ID looks like <left@right>, not {message_id!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to this
    message.set_content(rendered.text, cte="quoted-printable")  # 7-bit: any relay carries it
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message


async def send(message: EmailMessage, config: SmtpConfig, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Hand the message to the server; any refusal or network error is raised to the caller.

    `timeout` is aiosmtplib's, per network operation, so a slow but live server is not cut off.

    STARTTLS is used exactly when the URL asks for it (never opportunistically), so what a
    connection does is visible in the configuration."""
    await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        username=config.username,
        password=config.password,
        use_tls=config.implicit_tls,
        start_tls=config.starttls,
        tls_context=_tls() if config.implicit_tls or config.starttls else None,
        timeout=timeout,
    )


@cache
def _tls() -> ssl.SSLContext:
    """aiosmtplib's default (the system's CAs, the host name checked), built once: building it
    costs ~20 ms of CPU, per mail when left to aiosmtplib."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
