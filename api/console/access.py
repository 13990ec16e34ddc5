"""Who is at the console: the session behind the `oms_session` cookie, and what its role allows.

Every console route declares the scope it needs where it is defined, as `/v1` routes do:

    caller: Annotated[Principal, console_grants(Scope.ORDERS_CHANGE)]

Not logged in (no session, or an expired one): a 303 to the login page, which comes back here
after. Logged in without the scope: a 403 page. A state-changing request (any method but GET and
HEAD) must also carry the session's CSRF token in its `csrf` field, or it is refused with a 403
before the route runs, so nothing changes. Only the login page declares `dependencies=[OPEN]`;
logging out and changing one's own password need ANY_CONSOLE_USER, and take `SignedInDep`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Security
from fastapi.security import SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession

from api.console import forms, tokens
from api.deps import SessionDep, SettingsDep, get_resources
from db.console_users import ConsoleSessionRepository, ConsoleUserRecord
from security.principal import Principal, PrincipalKind
from security.roles import Role, Scope
from settings import Settings

SESSION_COOKIE = "oms_session"
HOME = "/console"
LOGIN = "/console/login"
ACCOUNT = "/console/account"
SAFE_METHODS = frozenset({"GET", "HEAD"})
TOUCH_EVERY = timedelta(minutes=1)  # the idle clock is this precise: one write a minute at most
# What any logged-in user may do (log out, change their own password) needs a scope every console
# role holds: orders:read (the storefront, its one other holder, is never a console user).
ANY_CONSOLE_USER = Scope.ORDERS_READ
UNBLOCKED = frozenset({ACCOUNT, "/console/logout"})  # open while a password must be changed


class ConsoleRedirect(Exception):
    """Answer with a 303 to `url` (the login page, or the page to change one's password)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class ConsoleRefusal(Exception):
    """Answer with a page saying why not (403 lacking a scope or a CSRF token, 429 locked)."""

    def __init__(self, status: int, title: str, text: str, retry_after: int | None = None) -> None:
        super().__init__(text)
        self.status, self.title, self.text, self.retry_after = status, title, text, retry_after


@dataclass(frozen=True, kw_only=True)
class SignedIn:
    """The session of this request: its user, the hash it is stored by, its forms' CSRF token."""

    principal: Principal
    id_hash: str
    csrf: str
    must_change_password: bool

    def may(self, scope: str) -> bool:
        """For templates: whether to offer what needs `scope`."""
        return self.principal.may(Scope(scope))


def user_principal(user: ConsoleUserRecord) -> Principal:
    return Principal(
        kind=PrincipalKind.CONSOLE_USER, id=user.id, name=user.username, role=Role(user.role)
    )


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path of this site, never another site."""
    if not target or "\\" in target or any(ord(char) < 0x21 for char in target):
        return HOME
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not (parts.path == HOME or parts.path.startswith(HOME + "/"))
    ):
        return HOME
    return target


def login_url(request: Request) -> str:
    """The login page, coming back to this page (a GET's) or to the console's home."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    back = safe_next(here) if request.method in SAFE_METHODS else HOME
    return f"{LOGIN}?next={quote(back, safe='')}"


async def session_principal(
    request: Request, session: AsyncSession, settings: Settings
) -> Principal | None:
    """The logged-in console user of the `oms_session` cookie, or None (no session, ended,
    expired idle or absolutely, or the user is disabled). Restarts the idle clock."""
    signed_in = await signed_in_session(request, session, settings)
    return None if signed_in is None else signed_in.principal


async def signed_in_session(
    request: Request, session: AsyncSession, settings: Settings
) -> SignedIn | None:
    """The request's live session; an expired one is ended (its row deleted) on the way."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is None or not tokens.well_formed(token):
        return None
    id_hash = tokens.digest(token)
    found = await ConsoleSessionRepository(session).find(id_hash)
    if found is None:
        return None
    record, user = found
    now = datetime.now(UTC)
    if user.disabled_at is not None or expired(
        record.created_at, record.last_seen_at, now, settings
    ):
        await _write(request, lambda sessions: sessions.end(id_hash))
        return None
    if now - record.last_seen_at >= min(TOUCH_EVERY, settings.session_idle / 4):
        await _write(request, lambda sessions: sessions.touch(id_hash, now))
    csrf = tokens.csrf_token(settings, tokens.SESSION_PURPOSE, token)
    principal = user_principal(user)
    return SignedIn(
        principal=principal,
        id_hash=id_hash,
        csrf=csrf,
        must_change_password=user.must_change_password,
    )


def expired(created: datetime, last_seen: datetime, now: datetime, settings: Settings) -> bool:
    """Idle for too long, or older than a session may be whatever its use."""
    return now - last_seen >= settings.session_idle or now - created >= settings.session_lifetime


async def _write(
    request: Request, change: Callable[[ConsoleSessionRepository], Awaitable[Any]]
) -> None:
    """In a transaction of its own: the request's session only reads (GETs never commit)."""
    async with get_resources(request).sessions.begin() as writing:
        await change(ConsoleSessionRepository(writing))


async def require_signed_in(
    request: Request, session: SessionDep, settings: SettingsDep
) -> SignedIn:
    """The session, or a redirect to log in; a state change must carry its CSRF token."""
    signed_in = await signed_in_session(request, session, settings)
    if signed_in is None:
        raise ConsoleRedirect(login_url(request))
    request.state.console = signed_in  # the pages show who is logged in and what they may do
    if signed_in.must_change_password and request.url.path not in UNBLOCKED:
        raise ConsoleRedirect(ACCOUNT)
    if request.method not in SAFE_METHODS:
        form = await forms.read(request)
        if not tokens.same(signed_in.csrf, form.get("csrf")):
            raise csrf_refusal()
    return signed_in


SignedInDep = Annotated[SignedIn, Depends(require_signed_in)]


def csrf_refusal() -> ConsoleRefusal:
    text = "This form is out of date or was not sent from the console: reload the page and retry."
    return ConsoleRefusal(403, "Form refused", text)


async def authorize_console(needed: SecurityScopes, signed_in: SignedInDep) -> Principal:
    """A logged-in console user whose role grants the route's scopes."""
    for scope in needed.scopes:
        if not signed_in.principal.may(Scope(scope)):
            role = signed_in.principal.role.value
            text = f"Your role ({role}) does not allow this ({scope})."
            raise ConsoleRefusal(403, "Not allowed", text)
    return signed_in.principal


def console_grants(scope: Scope) -> Any:
    """The dependency a console route declares: `Annotated[Principal, console_grants(Scope.X)]`."""
    return Security(authorize_console, scopes=[scope.value])
