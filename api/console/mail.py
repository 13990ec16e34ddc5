"""The console's Mail page, for ops and admin (`events:read`): the messages `make run`'s local mail
catcher kept (integration/mail/catcher.py), newest first, and one message with its parts.

A message is named by its file's name, and only a name the catcher's folder lists opens one: the
name from the URL is looked up among the folder's names, never joined into a path. The HTML part
is shown in an `<iframe sandbox>` (no script, an opaque origin) whose document is served by a
route of its own under a policy of its own (app.py's FRAMED_HEADERS): inline styles and data:
images only, nothing fetched, framed by this site alone.

Production has no catcher (`OMS_MAIL_CATCHER_DIR` unset): mail goes to the real SMTP server, and
the page says so; each order's page lists the e-mails it sent.
"""

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from api.console import pages
from api.console.access import console_grants
from api.deps import SettingsDep
from integration.mail.catcher import CaughtMail, read_mail
from security.roles import Scope

PREFIX = f"{pages.PREFIX}/mail"
SHOWN = 100  # the list shows this many messages, newest first
MESSAGE = re.compile(re.escape(PREFIX) + r"/[^/]+")
PART = re.compile(re.escape(PREFIX) + r"/[^/]+/html")

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("", dependencies=[console_grants(Scope.EVENTS_READ)])
async def mail_page(request: Request, settings: SettingsDep) -> Response:
    """The newest messages the catcher kept, or why there are none to show here."""
    directory = settings.mail_catcher_dir
    mails = [] if directory is None else await run_in_threadpool(newest, directory, SHOWN)
    context = {
        "directory": directory,
        "mails": mails,
        "shown_count": SHOWN,
        "mail_url": mail_url,
    }
    return pages.render(request, "mail.html", context)


@router.get("/{name}", dependencies=[console_grants(Scope.EVENTS_READ)])
async def message_page(request: Request, name: str, settings: SettingsDep) -> Response:
    """One message: its headers, its text part, and its HTML part in a sandboxed frame."""
    mail = await run_in_threadpool(find, settings.mail_catcher_dir, name)
    if mail is None:
        return pages.not_found(request, "message", name)
    context = {"mail": mail, "part_url": part_url(mail.path.name)}
    return pages.render(request, "mail_message.html", context)


@router.get("/{name}/html", dependencies=[console_grants(Scope.EVENTS_READ)])
async def html_part(request: Request, name: str, settings: SettingsDep) -> Response:
    """The message's HTML part as a document of its own: the source of the page's frame."""
    mail = await run_in_threadpool(find, settings.mail_catcher_dir, name)
    if mail is None or mail.html is None:
        return pages.not_found(request, "message", name)
    return HTMLResponse(mail.html, headers=pages.NO_STORE)


def mail_url(name: str) -> str:
    """A message's page (a name someone put in the folder by hand may need quoting)."""
    return f"{PREFIX}/{quote(name, safe='')}"


def part_url(name: str) -> str:
    return f"{mail_url(name)}/html"


def is_message(path: str) -> bool:
    """Whether `path` is a message's page, which frames its HTML part."""
    return MESSAGE.fullmatch(path) is not None


def is_part(path: str) -> bool:
    """Whether `path` is a message's HTML part, the one console document a page may frame."""
    return PART.fullmatch(path) is not None


def listed(directory: Path) -> list[Path]:
    """The messages in the folder, newest first (the catcher's names sort by arrival); its
    hidden temporary files are not *.eml, and anything but a plain file is left out."""
    if not directory.is_dir():
        return []
    found = (path for path in directory.glob("*.eml") if path.is_file() and not path.is_symlink())
    return sorted(found, key=lambda path: path.name, reverse=True)


def newest(directory: Path, limit: int) -> Sequence[CaughtMail]:
    return [read_mail(path) for path in listed(directory)[:limit]]


def find(directory: Path | None, name: str) -> CaughtMail | None:
    """The message the folder lists as `name`, read from the listed path; None if not listed."""
    if directory is None:
        return None
    path = next((path for path in listed(directory) if path.name == name), None)
    return None if path is None else read_mail(path)
