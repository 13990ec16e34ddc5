"""The console in the app: its routers, its answers to "log in first" and "not allowed", its one
stylesheet, and the security headers of every response under /console.

The pages run no script at all and load nothing from elsewhere, so the Content-Security-Policy
allows only this site's stylesheet and forms posting to this site, and no framing (against
clickjacking). Its styles live in static/console.css: no inline style or script to allow.
One exception, for the Mail page (mail.py): a message's page frames the message's HTML part, a
document of its own, which only this site may frame (FRAMING_HEADERS, FRAMED_HEADERS).
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console import (
    account,
    billing,
    customers,
    inventory,
    login,
    mail,
    pages,
    receiving,
    returns,
    routes,
    users,
)
from api.console.access import ConsoleRedirect, ConsoleRefusal

STATIC = Path(__file__).parent / "static"
STATIC_PATH = f"{pages.PREFIX}/static"  # public: the same stylesheet for everyone
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers older than CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSP = "Content-Security-Policy"
# A message's page may frame this site (its <iframe sandbox> shows the message's HTML part).
FRAMING_HEADERS = SECURITY_HEADERS | {CSP: f"{SECURITY_HEADERS[CSP]}; frame-src 'self'"}
# The HTML part: the shop's e-mail as sent (inline styles, data: images), shown only in that
# frame. It fetches nothing, runs nothing, and is sandboxed (an opaque origin) even when opened
# on its own; only this site may frame it.
FRAMED_HEADERS = SECURITY_HEADERS | {
    CSP: (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def security_headers(path: str) -> dict[str, str]:
    """The headers of a console answer: SECURITY_HEADERS, but for the Mail page's frame."""
    if mail.is_part(path):
        return FRAMED_HEADERS
    if mail.is_message(path):
        return FRAMING_HEADERS
    return SECURITY_HEADERS


class ConsoleHeaders:
    """Adds SECURITY_HEADERS to every response under /console (redirects and errors too), and
    keeps every page out of caches (each is one user's, and changes); the stylesheet may stay."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == pages.PREFIX or path.startswith("/console/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path).items():
                    headers[name] = value
                static = path.startswith(STATIC_PATH + "/")
                headers["Cache-Control"] = "max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _redirect(request: Request, exc: Exception) -> Response:
    del request
    assert isinstance(exc, ConsoleRedirect)
    return RedirectResponse(exc.url, status_code=303)


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return pages.refused(request, exc.status, exc.title, exc.text, exc.retry_after)


def install(app: FastAPI) -> None:
    """Add the console to the app."""
    for module in (
        login,
        account,
        routes,
        billing,
        inventory,
        returns,
        receiving,
        users,
        customers,
        mail,
    ):
        app.include_router(module.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleRedirect, _redirect)
    app.add_exception_handler(ConsoleRefusal, _refusal)
    app.add_middleware(ConsoleHeaders)
