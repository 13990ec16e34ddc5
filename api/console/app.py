"""The console in the app: its routers, its answers to "log in first" and "not allowed", its one
stylesheet, and the security headers of every response under /console.

The pages run no script at all and load nothing from elsewhere, so the Content-Security-Policy
allows only this site's stylesheet and forms posting to this site, and no framing (against
clickjacking). Its styles live in static/console.css: no inline style or script to allow.
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
    inventory,
    login,
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
                for name, value in SECURITY_HEADERS.items():
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
    for module in (login, account, routes, billing, inventory, returns, receiving, users):
        app.include_router(module.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleRedirect, _redirect)
    app.add_exception_handler(ConsoleRefusal, _refusal)
    app.add_middleware(ConsoleHeaders)
