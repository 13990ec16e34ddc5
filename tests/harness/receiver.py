"""A webhook receiver for tests: a minimal HTTP/1.1 server on 127.0.0.1 that keeps every request
it gets and answers what the test tells it to (a status, a delay, or per request)."""

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from devstack.network import LOOPBACK


@dataclass(frozen=True)
class Reply:
    """What a receiver answers to every request, after `delay` seconds."""

    status: int = 200
    body: bytes = b'{"received":true}'
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server's state: every connection counted, every request kept. It
    answers `reply`, or what `answer` (when set) makes of each request."""

    reply: Reply
    port: int = 0
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    answer: Callable[[Seen], Awaitable[Reply]] | None = None

    def url(self, host: str = LOOPBACK, scheme: str = "http", path: str = "/hook") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            seen = await read_request(reader)
            self.requests.append(seen)
            reply = self.reply if self.answer is None else await self.answer(seen)
            if reply.delay:
                with suppress(TimeoutError):  # ends early when the test is over
                    await asyncio.wait_for(self.released.wait(), reply.delay)
            writer.write(response_bytes(reply))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away: what these tests provoke
        finally:
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> Seen:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *lines = head.removesuffix("\r\n\r\n").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Seen(target=request_line.split(" ")[1], headers=headers, body=body)


def response_bytes(reply: Reply) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} Whatever", f"Content-Length: {len(reply.body)}"]
    lines += ["Connection: close", *(f"{k}: {v}" for k, v in reply.headers)]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + reply.body


@asynccontextmanager
async def receiving(
    reply: Reply | None = None, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Receiver]:
    receiver = Receiver(reply or Reply())
    server = await asyncio.start_server(receiver.handle, LOOPBACK, 0, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        receiver.released.set()  # a delayed answer is no longer awaited by anyone
        server.close()
        await server.wait_closed()
