"""The API as production runs it: a real uvicorn server on a free loopback port."""

from collections.abc import AsyncIterator

import httpx
import pytest

from settings import Settings
from tests.conftest import serve_http


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a uvicorn server running the app (lifespan and all) in this loop."""
    async with serve_http(settings) as url, httpx.AsyncClient(base_url=url) as client:
        yield client
