"""A local mail catcher for development and tests: a real SMTP server that delivers to a folder.

Each message it accepts is written, byte for byte as received, to
`<dir>/<UTC time>-<random>.eml` (written under a hidden temporary name, then renamed, so a reader
never sees half a message); it keeps nothing else. The names sort by arrival. `fail_with(451)`
makes it refuse every message, like a mail server that is up but cannot take mail.

    python -m integration.mail.catcher --dir .oms/mail --port 8025    (until Ctrl-C or SIGTERM)
"""

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class CaughtMail:
    """One message the catcher received, as a test or the console reads it."""

    path: Path
    message_id: str
    to: str
    subject: str
    received_at: datetime
    text: str
    html: str | None


class MailCatcher:
    """An SMTP server on a thread of its own, writing what it receives to `directory`."""

    def __init__(self, directory: Path, port: int = 0, host: str = LOOPBACK) -> None:
        self._directory = directory
        self._handler = _Keeper(directory)
        self._controller = _Controller(
            self._handler, hostname=host, port=port, enable_SMTPUTF8=True
        )

    def start(self) -> None:
        """Listen (port 0: on a free port, which `url` then names). Start a catcher once."""
        self._directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Where to send, as `SmtpConfig.from_url` reads it (known once started)."""
        host = self._controller.hostname
        return f"smtp://{f'[{host}]' if ':' in host else host}:{self._controller.port}"

    @property
    def directory(self) -> Path:
        return self._directory

    def fail_with(self, code: int | None) -> None:
        """Answer every DATA with this SMTP error code (4xx or 5xx) and keep nothing; None: accept
        mail again."""
        if code is not None and not 400 <= code <= 599:
            raise ValueError(f"an SMTP error code is 4xx or 5xx, not {code}")
        self._handler.failure = code  # one attribute, read once per message: no lock needed


def read_mailbox(directory: Path) -> list[CaughtMail]:
    """What the catcher kept in `directory`, newest first (none when there is no such folder)."""
    if not directory.is_dir():
        return []
    return [read_mail(path) for path in sorted(directory.glob("*.eml"), reverse=True)]


def read_mail(path: Path) -> CaughtMail:
    """One kept message, parsed by the standard library (policy.default decodes the headers)."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    return CaughtMail(
        path=path,
        message_id=str(message.get("Message-ID", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        received_at=received_at(path),
        text="" if text is None else _lines(text.get_content()),
        html=None if html is None else _lines(html.get_content()),
    )


def _lines(content: object) -> str:
    """A part's text with the line breaks a reader expects: SMTP carried it with CRLF."""
    return str(content).replace("\r\n", "\n")


def received_at(path: Path) -> datetime:
    """When the catcher received a message: the time its name starts with."""
    stamp = path.name.partition("-")[0]
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:  # a file someone put there by hand: when it was written
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def keep(directory: Path, content: bytes) -> Path:
    """Write one message under a name that sorts by arrival: a temporary file, then a rename."""
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(4)}.eml"
    temporary = directory / f".{name}.tmp"  # hidden and not *.eml: read_mailbox skips it
    temporary.write_bytes(content)
    return temporary.replace(directory / name)


class _Keeper:
    """aiosmtpd's handler: keeps each message, or refuses it while told to fail."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.failure: int | None = None

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        if (code := self.failure) is not None:
            return f"{code} Refused by the mail catcher (fail_with)"
        content = envelope.original_content or b""
        await asyncio.to_thread(keep, self.directory, content)  # file I/O off the SMTP loop
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's threaded server, able to listen on port 0: it learns the port the OS chose
    before it connects to itself to check that the server is up."""

    def _trigger_server(self) -> None:
        if isinstance(self.server, asyncio.Server) and self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> None:
    """Run a catcher until Ctrl-C (or SIGTERM, which `make run` sends)."""
    parser = argparse.ArgumentParser(prog="python -m integration.mail.catcher", description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path(".oms/mail"), help="where to write mail")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default=LOOPBACK)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C does
    with MailCatcher(args.dir, args.port, args.host) as catcher:
        log.info("mail catcher listening on %s, writing to %s", catcher.url, args.dir)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    log.info("mail catcher stopped")


if __name__ == "__main__":
    main()
