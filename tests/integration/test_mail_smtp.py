"""Customer e-mails over real SMTP into the mail catcher (aiosmtpd on a free port), read back from
its folder; a catcher told to fail refuses like a mail server that is up but cannot take mail."""

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import pytest

from devstack.network import free_port, is_listening
from integration.mail.catcher import MailCatcher, read_mailbox
from integration.mail.smtp import SmtpConfig, build_message, send
from tests.harness.mail import SENDER, TO, send_shipped, shipped_mail, tracking_number

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail") as running:
        yield running


async def test_a_sent_mail_arrives_with_its_headers_and_both_parts(catcher: MailCatcher) -> None:
    rendered = await send_shipped(catcher, "ord-1", "de")

    [caught] = read_mailbox(catcher.directory)
    assert caught.message_id == "<shipped.42.ord-1@example.com>"
    assert caught.to == TO
    assert caught.subject == rendered.subject
    assert caught.text == rendered.text
    assert caught.html == rendered.html
    assert f"Sendungsnummer: {tracking_number()}" in caught.text
    assert caught.path.parent == catcher.directory
    assert caught.path.suffix == ".eml"


async def test_the_mailbox_lists_the_newest_mail_first(catcher: MailCatcher) -> None:
    for order_id in ("ord-1", "ord-2", "ord-3"):
        await send_shipped(catcher, order_id, "de")

    caught = read_mailbox(catcher.directory)

    assert [mail.message_id for mail in caught] == [
        "<shipped.42.ord-3@example.com>",
        "<shipped.42.ord-2@example.com>",
        "<shipped.42.ord-1@example.com>",
    ]
    assert caught[0].received_at > caught[2].received_at


async def test_a_failing_server_makes_send_raise_and_keeps_nothing(catcher: MailCatcher) -> None:
    catcher.fail_with(451)

    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await send_shipped(catcher, "ord-1", "de")

    assert refused.value.code == 451
    assert list(catcher.directory.iterdir()) == []


async def test_a_server_that_recovers_takes_the_next_mail(catcher: MailCatcher) -> None:
    catcher.fail_with(451)
    with pytest.raises(aiosmtplib.SMTPDataError):
        await send_shipped(catcher, "ord-1", "de")

    catcher.fail_with(None)
    await send_shipped(catcher, "ord-1", "de")

    assert [mail.message_id for mail in read_mailbox(catcher.directory)] == [
        "<shipped.42.ord-1@example.com>"
    ]


async def test_nothing_listening_makes_send_raise(tmp_path: Path) -> None:
    config = SmtpConfig.from_url(f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(aiosmtplib.SMTPConnectError):
        await send(
            build_message(shipped_mail("ord-1", "de"), TO, SENDER, "<x.1@example.com>"), config
        )


def test_the_mailbox_of_a_folder_that_does_not_exist_is_empty(tmp_path: Path) -> None:
    assert read_mailbox(tmp_path / "nothing-yet") == []


async def test_the_command_catches_mail_until_it_is_told_to_stop(tmp_path: Path) -> None:
    port, folder = free_port(), tmp_path / "mail"
    arguments = ["-m", "integration.mail.catcher", "--dir", str(folder), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(sys.executable, *arguments, cwd=REPO, env=env)
    try:
        await wait_until_listening(port, process)
        message = build_message(shipped_mail("ord-1", "de"), TO, SENDER, "<cmd.1@example.com>")
        await send(message, SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"))
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), timeout=10)

    assert returncode == 0
    assert [mail.message_id for mail in read_mailbox(folder)] == ["<cmd.1@example.com>"]


async def wait_until_listening(port: int, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(15):
        while not is_listening(port):
            assert process.returncode is None, "the catcher exited before it listened"
            await asyncio.sleep(0.05)
