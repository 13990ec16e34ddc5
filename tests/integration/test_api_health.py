"""GET /healthz: ok when PostgreSQL and Temporal both answer, 503 naming the one that does not."""

import httpx
import pytest

from devstack.network import free_port
from settings import Settings
from tests.harness.orders import MakeOrderBody
from tests.harness.servers import serve_api

pytestmark = pytest.mark.integration


async def test_health_is_ok_when_both_dependencies_answer(api: httpx.AsyncClient) -> None:
    answer = await api.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_health_names_temporal_when_it_is_unreachable(settings: Settings) -> None:
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})

    async with serve_api(down) as api:  # no key: anyone may ask
        answer = await api.get("/healthz")

    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "temporal": "unavailable"}


async def test_health_names_the_database_when_it_is_unreachable(settings: Settings) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"
    down = settings.model_copy(update={"database_url": url})

    async with serve_api(down) as api:  # no key: anyone may ask
        answer = await api.get("/healthz")

    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unavailable", "temporal": "ok"}


async def test_an_order_placed_while_the_database_is_down_answers_503_not_500(
    settings: Settings, order_body: MakeOrderBody, admin_key: str
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/oms"
    down = settings.model_copy(update={"database_url": url})

    async with serve_api(down, admin_key) as api:
        answer = await api.post("/v1/orders", json=order_body("SKU-ANY"))

    assert answer.status_code == 503
    assert "database" in answer.json()["detail"]


async def test_the_openapi_document_describes_the_v1_routes(api: httpx.AsyncClient) -> None:
    answer = await api.get("/openapi.json")
    docs = await api.get("/docs")

    assert answer.status_code == docs.status_code == 200
    paths = answer.json()["paths"]
    assert {"/v1/orders", "/v1/orders/{order_id}", "/v1/orders/{order_id}/cancel"} <= set(paths)
    assert {"/v1/inventory/{sku}", "/v1/inventory/{sku}/adjustments", "/healthz"} <= set(paths)
