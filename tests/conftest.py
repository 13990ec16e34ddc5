"""Real parts shared by every test that needs them, started once per session and only on demand.

PostgreSQL (embedded, migrated to head by alembic) and a local Temporal dev server. Tests never
truncate: each one writes its own SKUs, customers and task queue, so they cannot disturb each other.
"""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from db.session import SessionFactory, create_engine, create_session_factory
from db.stock import StockRepository
from devstack.network import LOOPBACK, free_port
from devstack.postgres import EmbeddedPostgres
from settings import Settings
from tests.factories import make_order_body
from worker import build_worker
from workflows.contracts import SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parent.parent
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"

OrderBody = dict[str, Any]  # JSON as the storefront sends it
MakeOrderBody = Callable[..., OrderBody]
MakeSku = Callable[[int], Awaitable[str]]
POLL = 0.05  # seconds between two reads of an order
STARTUP = 10.0  # seconds for uvicorn to listen


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An embedded PostgreSQL on a free port, migrated to head the way production is."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), free_port())
    server.start()
    try:
        migrate(server.url)
        yield server.url
    finally:
        server.stop()


def migrate(url: str) -> None:
    """`alembic upgrade head` against `url` (a subprocess: alembic's env runs its own loop)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, "OMS_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=postgres_url))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(engine)


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A local Temporal dev server (in memory) that knows our search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI), search_attributes=SEARCH_ATTRIBUTES
    )
    async with env:
        yield env


@pytest.fixture
def settings(postgres_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    """Settings for one test: the session's servers, a task queue of its own, a fast world.

    Override with `settings.model_copy(update={...})`.
    """
    return Settings(
        database_url=postgres_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"tq-{uuid4()}",
        sim_step_latency=timedelta(0),
        sim_delivery_delay=timedelta(milliseconds=200),
    )


@asynccontextmanager
async def serve_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, called in-process through httpx."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client,
    ):
        yield client


@asynccontextmanager
async def serve_http(settings: Settings) -> AsyncIterator[str]:
    """The app as production runs it (lifespan and all): uvicorn on a free loopback port, as a
    task of this loop. Yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host=LOOPBACK, port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(STARTUP):
            while not server.started:
                assert not serving.done(), "uvicorn stopped during startup"
                await asyncio.sleep(0.02)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await serving


async def place_while_temporal_is_down(
    settings: Settings, body: OrderBody, key: str | None = None
) -> httpx.Response:
    """POST the order to an API whose Temporal is unreachable: the answer (a 503) it gives."""
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with serve_api(down) as api_without_temporal:
        return await api_without_temporal.post(
            "/v1/orders", json=body, headers={"Idempotency-Key": key or str(uuid4())}
        )


async def wait_for_status(
    api: httpx.AsyncClient, order_id: str, *statuses: str, within: float = 30.0
) -> OrderBody:
    """Poll GET /v1/orders/{id} until the order is in one of `statuses`; fail after `within` s."""
    order: OrderBody = {}
    for _ in range(int(within / POLL)):
        order = (await api.get(f"/v1/orders/{order_id}")).json()
        if order["status"] in statuses:
            return order
        await asyncio.sleep(POLL)
    pytest.fail(
        f"order {order_id} is {order.get('status')}, not one of {statuses}, after {within}s"
    )


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_api(settings) as client:
        yield client


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment, sessions: SessionFactory, settings: Settings
) -> AsyncIterator[Worker]:
    """The real worker (all activities, simulated outside world) on this test's task queue."""
    async with build_worker(temporal_env.client, sessions, settings) as running:
        yield running


@pytest.fixture
def new_sku(sessions: SessionFactory) -> MakeSku:
    """Makes a SKU no other test uses, with `on_hand` units in stock."""

    async def make(on_hand: int) -> str:
        sku = f"SKU-{uuid4().hex[:12].upper()}"
        async with sessions.begin() as session:
            await StockRepository(session).set_on_hand(sku, on_hand, actor="test")
        return sku

    return make


@pytest.fixture
def order_body() -> MakeOrderBody:
    """Makes a valid POST /v1/orders body; keyword arguments replace top-level fields."""

    def make(*skus: str, quantity: int = 2, **overrides: Any) -> OrderBody:
        body = make_order_body([(sku, quantity) for sku in skus])
        return body | overrides

    return make
