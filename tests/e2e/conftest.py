"""The API as production runs it: a real uvicorn server on a free loopback port."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from api.main import create_app
from devstack.network import LOOPBACK, free_port
from settings import Settings

STARTUP = 10.0  # seconds


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a uvicorn server running the app (lifespan and all) in this loop."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host=LOOPBACK, port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(STARTUP):
        while not server.started:
            assert not serving.done(), "uvicorn stopped during startup"
            await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await serving
