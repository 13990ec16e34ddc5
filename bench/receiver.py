"""A webhook receiver for `make bench --subscribers`: a bare ASGI app that reads each POST and
answers 204, as fast as uvicorn lets it, so the run measures the OMS's delivery, not the receiver.

    python -m uvicorn bench.receiver:app --lifespan off --host 127.0.0.1 --port 8900
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """204 to every HTTP request, once its body is read."""
    assert scope["type"] == "http", scope["type"]  # uvicorn runs it with --lifespan off
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
