"""A cap on request bodies, before anything reads them: 413 for a larger one, whether it says
its length up front (Content-Length) or streams it. The largest valid order is far below it, and
so are the batches of payloads the Temporal UI sends the codec."""

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024  # bytes


class BodyLimit:
    """ASGI middleware: refuse a request body larger than MAX_BODY with 413.

    A declared length over the cap is refused before the app runs. A streamed body is counted
    as the app reads it: past the cap, the 413 is sent, the app is told the client left, and
    whatever it answers after that is dropped (it never saw the whole body, so it acted on none
    of it)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(scope, receive, send)
            return
        seen, refused = 0, False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except ClientDisconnect:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.max_body} bytes"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
