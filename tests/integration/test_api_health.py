"""GET /healthz: ok when PostgreSQL and Temporal both answer, 503 naming the one that does not."""

import httpx
import pytest

from devstack.network import free_port
from settings import Settings
from tests.conftest import serve_api

pytestmark = pytest.mark.integration


async def test_health_is_ok_when_both_dependencies_answer(api: httpx.AsyncClient) -> None:
    answer = await api.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_health_names_temporal_when_it_is_unreachable(settings: Settings) -> None:
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})

    async with serve_api(down) as api:
        answer = await api.get("/healthz")

    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "temporal": "unavailable"}


async def test_health_names_the_database_when_it_is_unreachable(settings: Settings) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"
    down = settings.model_copy(update={"database_url": url})

    async with serve_api(down) as api:
        answer = await api.get("/healthz")

    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unavailable", "temporal": "ok"}
