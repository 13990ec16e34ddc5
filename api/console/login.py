"""Logging in and out of the console.

The login form is protected from CSRF before any session exists by a signed double-submit
cookie: GET sets `oms_login` (a random nonce, HttpOnly, path /console/login) and the form carries
HMAC(server secret, nonce); a POST without both, matching, is a 403 (api/console/tokens.py).
A successful login always makes a new session id (whatever session the browser had is ended:
no fixation) in the `oms_session` cookie: HttpOnly, SameSite=Lax, path /, Secure behind TLS.
Logging out deletes the session's row, so the cookie is worth nothing after, wherever it is.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from api.auth import OPEN
from api.console import forms, pages, tokens
from api.console.access import (
    ANY_CONSOLE_USER,
    LOGIN,
    SESSION_COOKIE,
    ConsoleRefusal,
    SignedInDep,
    console_grants,
    csrf_refusal,
    safe_next,
)
from api.console.throttle import LoginThrottle
from api.deps import ResourcesDep, SettingsDep
from db.console_users import (
    ConsoleSessionRepository,
    ConsoleUserRecord,
    ConsoleUserRepository,
    SecurityEvent,
    SecurityEventRepository,
)
from db.session import SessionFactory
from security.passwords import (
    MAX_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    normalize_username,
    verify_password,
)
from settings import Settings

router = APIRouter(prefix=pages.PREFIX, include_in_schema=False)

LOGIN_COOKIE = "oms_login"
WRONG = "Wrong username or password."


def secure(request: Request, settings: Settings) -> bool:
    """Cookies are `Secure` when configured so (behind a TLS proxy) or when this is https."""
    return settings.cookie_secure or request.url.scheme == "https"


def address_of(request: Request) -> str:
    """The client's address as the server sees it (uvicorn --proxy-headers behind a proxy)."""
    return request.client.host[:64] if request.client else "unknown"


@dataclass(frozen=True, kw_only=True)
class Checked:
    """A password check: the user when it was right; else `retry_after` while locked out, or
    neither (a wrong password, an unknown or disabled user: one answer for all three)."""

    user: ConsoleUserRecord | None = None
    retry_after: int | None = None


async def check_password(
    session: AsyncSession,
    settings: Settings,
    username: str,
    password: str,
    address: str,
) -> Checked:
    """Whether `password` is `username`'s, counting failures against the throttle. A missing or
    disabled user costs the same hash as a real one and answers the same: no user enumeration."""
    now = datetime.now(UTC)
    events = SecurityEventRepository(session)
    throttle = await LoginThrottle.read(events, settings, username, address, now)
    if (retry_after := throttle.retry_after(now)) is not None:
        return Checked(retry_after=retry_after)
    user = await ConsoleUserRepository(session).named(username)
    stored = dummy_hash() if user is None else user.password_hash
    right = await asyncio.to_thread(verify_password, stored, password)  # ~0.15 s of CPU: a thread
    if user is None or user.disabled_at is not None or not right:
        why = "no such user" if user is None else "disabled" if right else "wrong password"
        await throttle.failed(now, why)
        return Checked()
    if needs_rehash(user.password_hash):  # made with older parameters: upgrade it now
        user.password_hash = await asyncio.to_thread(hash_password, password)
    return Checked(user=user)


async def open_session(
    sessions: SessionFactory,
    settings: Settings,
    username: str,
    password: str,
    address: str,
    old: str | None,
) -> Checked | str:
    """Log in: a new session id (the old session, if any, ended), or why not."""
    async with sessions.begin() as session:
        checked = await check_password(session, settings, username, password, address)
        if checked.user is None:
            return checked
        now, token = datetime.now(UTC), tokens.new_token()
        stored = ConsoleSessionRepository(session)
        if tokens.well_formed(old):
            await stored.end(tokens.digest(old))
        await stored.end_expired(now - settings.session_idle, now - settings.session_lifetime)
        await stored.open(tokens.digest(token), checked.user.id, now)
        checked.user.last_login_at = now
        actor = f"user:{checked.user.username}"
        await SecurityEventRepository(session).record(
            SecurityEvent.LOGIN, username=username, address=address, actor=actor
        )
    return token


@router.get("/login", dependencies=[OPEN])
async def login_page(request: Request, settings: SettingsDep, next: str = "") -> Response:
    """The login form (logged in already, it logs in anew: another user, say)."""
    return login_form(request, settings, safe_next(next))


@router.post("/login", dependencies=[OPEN])
async def log_in(request: Request, resources: ResourcesDep, settings: SettingsDep) -> Response:
    """Check the password; on success a new session and on to `next`."""
    form = await forms.read(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not tokens.well_formed(nonce) or not tokens.csrf_matches(
        settings, tokens.LOGIN_PURPOSE, nonce, form.get("csrf")
    ):
        raise csrf_refusal()
    username = normalize_username(forms.raw(form, "username"))[:128]
    password, target = (
        forms.raw(form, "password")[: MAX_LENGTH * 4],
        safe_next(forms.raw(form, "next")),
    )
    address, old = address_of(request), request.cookies.get(SESSION_COOKIE)
    opened = await open_session(resources.sessions, settings, username, password, address, old)
    if isinstance(opened, Checked) and opened.retry_after is not None:
        raise locked_out(opened.retry_after)
    if isinstance(opened, Checked):
        return login_form(request, settings, target, problem=WRONG, username=username)
    return _logged_in(request, settings, target, opened)


def locked_out(retry_after: int) -> ConsoleRefusal:
    """The 429 of a username or address locked out by the throttle."""
    minutes = max(1, round(retry_after / 60))
    text = f"Too many failed logins for this user or from this address: retry in {minutes} min."
    return ConsoleRefusal(429, "Too many failed logins", text, retry_after)


def _logged_in(request: Request, settings: Settings, target: str, token: str) -> Response:
    """On to `target` with the new session's cookie; the login nonce has served."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",  # the API's /codec endpoints, on this origin, take console sessions too
        httponly=True,
        samesite="lax",
        secure=secure(request, settings),
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN)
    return response


@router.post("/logout", dependencies=[console_grants(ANY_CONSOLE_USER)])
async def log_out(request: Request, signed_in: SignedInDep, resources: ResourcesDep) -> Response:
    """End the session for good: its row is deleted (a POST with the CSRF token, as every
    state change: a cross-site page cannot log an agent out)."""
    async with resources.sessions.begin() as session:
        await ConsoleSessionRepository(session).end(signed_in.id_hash)
        actor = signed_in.principal.actor
        await SecurityEventRepository(session).record(
            SecurityEvent.LOGOUT,
            username=signed_in.principal.name,
            address=address_of(request),
            actor=actor,
        )
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_form(
    request: Request,
    settings: Settings,
    target: str,
    *,
    problem: str | None = None,
    username: str = "",
) -> Response:
    """The form, with the pre-session CSRF token of this browser's nonce (made if it has none)."""
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not tokens.well_formed(nonce):
        nonce = tokens.new_token()
    context = {
        "csrf": tokens.csrf_token(settings, tokens.LOGIN_PURPOSE, nonce),
        "next": target,
        "problem": problem,
        "username": username,
    }
    response = pages.render(request, "login.html", context, status_code=401 if problem else 200)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        path=LOGIN,
        httponly=True,
        samesite="lax",
        secure=secure(request, settings),
    )
    return response
