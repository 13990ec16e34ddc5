"""The console's Mail page, by httpx: what a real mail catcher received over SMTP, listed for ops
and admin; one message with its text part and its HTML part in a sandboxed frame, whose source
answers under a strict policy of its own. Other roles are refused, a name the folder does not
list opens nothing, and without a catcher the page says where mail goes instead."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.console import mail
from db.session import SessionFactory
from integration.mail.catcher import MailCatcher
from security.roles import Role
from settings import Settings
from tests.harness.console import logged_in
from tests.harness.mail import send_shipped, tracking_number

pytestmark = pytest.mark.integration

TRACKING = tracking_number()


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def catching(settings: Settings, catcher: MailCatcher) -> Settings:
    """The test's settings, with the console reading the catcher's folder."""
    return settings.model_copy(update={"mail_catcher_dir": catcher.directory})


def kept(catcher: MailCatcher) -> str:
    """The name of the one message the catcher kept."""
    [path] = catcher.directory.glob("*.eml")
    return path.name


def table(page: httpx.Response, label: str) -> str:
    """The HTML of the page's table named `label`."""
    start = page.text.index(f'<table aria-label="{label}"')
    return page.text[start : page.text.index("</table>", start)]


async def test_ops_sees_the_caught_mail_listed_and_opens_it_with_its_text_and_a_sandboxed_frame(
    catching: Settings, sessions: SessionFactory, catcher: MailCatcher
) -> None:
    rendered = await send_shipped(catcher)
    name = kept(catcher)
    async with logged_in(catching, sessions, Role.OPS) as client:
        listing = await client.get("/console/mail")
        message = await client.get(f"/console/mail/{name}")

    assert listing.status_code == 200
    assert '<a href="/console/mail">Mail</a>' in listing.text  # in ops' navigation
    listed = table(listing, "Messages")
    assert f'<a href="/console/mail/{name}">{rendered.subject}</a>' in listed
    assert "Grete Müller &lt;grete@example.de&gt;" in listed
    assert "&lt;shipped.42.ord-mail-1@example.com&gt;" in listed
    assert message.status_code == 200
    assert f"Tracking number: {TRACKING}" in message.text  # the text part
    frame = f'<iframe sandbox src="/console/mail/{name}/html" title="HTML part"'
    assert frame in message.text
    assert "allow-" not in message.text  # no sandbox token: no script, no same origin
    policy = message.headers["content-security-policy"]
    assert "frame-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy  # the page itself is still never framed
    assert "frame-src" not in listing.headers["content-security-policy"]


async def test_the_frames_source_is_the_html_part_under_a_strict_policy_of_its_own(
    catching: Settings, sessions: SessionFactory, catcher: MailCatcher
) -> None:
    rendered = await send_shipped(catcher)
    async with logged_in(catching, sessions, Role.ADMIN) as client:
        part = await client.get(f"/console/mail/{kept(catcher)}/html")

    assert part.status_code == 200
    assert part.headers["content-type"] == "text/html; charset=utf-8"
    assert part.text == rendered.html
    policy = [directive.strip() for directive in part.headers["content-security-policy"].split(";")]
    assert policy[0] == "sandbox"  # sandboxed even when opened outside the frame
    assert "default-src 'none'" in policy
    assert "style-src 'unsafe-inline'" in policy  # the mail's inline styles, nothing else
    assert "img-src data:" in policy
    assert "frame-ancestors 'self'" in policy
    assert not any("script" in directive for directive in policy)
    assert part.headers["x-frame-options"] == "SAMEORIGIN"
    assert part.headers["x-content-type-options"] == "nosniff"
    assert part.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.WAREHOUSE])
async def test_a_role_without_events_read_gets_the_consoles_403_and_no_mail_link(
    catching: Settings, sessions: SessionFactory, catcher: MailCatcher, role: Role
) -> None:
    await send_shipped(catcher)
    name = kept(catcher)
    async with logged_in(catching, sessions, role) as client:
        home = await client.get("/console")
        answers = [
            await client.get(path)
            for path in ("/console/mail", f"/console/mail/{name}", f"/console/mail/{name}/html")
        ]

    assert 'href="/console/mail"' not in home.text
    for answer in answers:
        assert answer.status_code == 403
        assert f"Your role ({role.value}) does not allow this (events:read)." in answer.text
        assert TRACKING not in answer.text


@pytest.mark.parametrize(
    "name", ["..%2Fsecret.key", "x.eml", "secret.eml", ".hidden.eml.tmp", "%2E%2E"]
)
async def test_a_name_the_folder_does_not_list_opens_nothing(
    catching: Settings, sessions: SessionFactory, catcher: MailCatcher, name: str
) -> None:
    await send_shipped(catcher)
    secret = catcher.directory.parent / "secret.key"
    secret.write_text("the secret beside the mail folder")
    (catcher.directory / "secret.eml").symlink_to(secret)  # a link out of the folder: not listed
    (catcher.directory / ".hidden.eml.tmp").write_text("half a message")
    async with logged_in(catching, sessions, Role.OPS) as client:
        answers = [await client.get(f"/console/mail/{name}{part}") for part in ("", "/html")]

    for answer in answers:
        assert answer.status_code == 404
        assert "the secret" not in answer.text
        assert "half a message" not in answer.text


async def test_without_a_catcher_the_page_says_so_and_points_to_the_orders_emails(
    settings: Settings, sessions: SessionFactory
) -> None:
    assert settings.mail_catcher_dir is None
    async with logged_in(settings, sessions, Role.OPS) as client:
        page = await client.get("/console/mail")
        message = await client.get("/console/mail/20261207T140000.000000Z-0a1b2c3d.eml")

    assert page.status_code == 200
    assert "No mail catcher is configured here" in page.text
    assert "Customer e-mails" in page.text
    assert message.status_code == 404


async def test_an_empty_catcher_says_there_is_no_mail_yet(
    catching: Settings, sessions: SessionFactory
) -> None:
    async with logged_in(catching, sessions, Role.OPS) as client:
        page = await client.get("/console/mail")

    assert page.status_code == 200
    assert "No mail yet." in page.text


def test_only_a_name_the_folder_lists_is_ever_read(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    (tmp_path / "secret.key").write_text("beside the folder")
    (folder / "20261207T140000.000000Z-0a1b2c3d.eml").write_text("Subject: kept\n\nhello\n")

    found = mail.find(folder, "20261207T140000.000000Z-0a1b2c3d.eml")

    assert found is not None
    assert found.subject == "kept"
    for name in ("../secret.key", str(tmp_path / "secret.key"), "..", "", "*.eml"):
        assert mail.find(folder, name) is None
    assert mail.find(tmp_path / "absent", "x.eml") is None
    assert mail.find(None, "x.eml") is None
