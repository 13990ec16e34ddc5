"""Real parts shared by every test that needs them, started once per session and only on demand.

PostgreSQL (embedded, migrated to head by alembic) and a local Temporal dev server. Tests never
truncate: each one writes its own SKUs, customers and task queue, so they cannot disturb each other.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory, create_engine, create_session_factory
from db.stock import StockRepository
from devstack.network import free_port
from devstack.postgres import EmbeddedPostgres
from security.roles import Role
from settings import Settings
from tests.factories import make_order_body
from tests.harness.binaries import TEMPORAL_CLI
from tests.harness.keys import TEST_SECRET, bearer, issue_key, payload_converter
from tests.harness.orders import MakeOrderBody, MakeSku, OrderBody
from tests.harness.servers import migrate, serve_api, serve_http, suite_settings
from worker import build_worker
from workflows.contracts import SEARCH_ATTRIBUTES

# The slowest modules (they wait out timeouts and restarts), started first and in this order: under
# `make test`'s two processes (`--dist loadfile --no-loadscope-reorder`) each takes two of the
# four, and the many short modules fill in around them, instead of the four ending up queued last
# in one process (xdist's own order: modules with the most tests first).
SLOWEST_FIRST = (
    "tests/faults/test_faults.py",
    "tests/faults/test_return_faults.py",
    "tests/faults/test_refund_faults.py",
    "tests/faults/test_integration_faults.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.partition("::")[0]
        return SLOWEST_FIRST.index(module) if module in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


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
    """A local Temporal dev server (in memory) that knows our search attributes; its client
    encrypts payloads with the tests' key, as every process's does."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=payload_converter(),
    )
    async with env:
        yield env


@pytest.fixture
def settings(postgres_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    """Settings for one test: the session's servers, a task queue of its own, a fast world.

    Override with `settings.model_copy(update={...})`.
    """
    return suite_settings(postgres_url, temporal_env)


@pytest.fixture(scope="session")
async def role_keys(sessions: SessionFactory) -> dict[Role, str]:
    """One API key per role (the storefront's on channel `default`), issued once per session."""
    keyed = Settings(secret_key=TEST_SECRET)
    return {
        role: await issue_key(sessions, keyed, role, name=f"tests-{role.value}") for role in Role
    }


@pytest.fixture(scope="session")
def admin_key(role_keys: dict[Role, str]) -> str:
    """The session's admin API key: for apps a test serves itself (`serve_api(settings, key)`)."""
    return role_keys[Role.ADMIN]


@pytest.fixture
async def api(settings: Settings, role_keys: dict[Role, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, called with an admin key (tests of roles make clients of their own)."""
    async with serve_api(settings) as client:
        client.headers.update(bearer(role_keys[Role.ADMIN]))
        yield client


@pytest.fixture
async def http(settings: Settings, role_keys: dict[Role, str]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client (admin key) of a uvicorn server running the app, lifespan and all."""
    headers = bearer(role_keys[Role.ADMIN])
    async with serve_http(settings) as url, httpx.AsyncClient(base_url=url, headers=headers) as c:
        yield c


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
