"""The servers tests start: a migrated database, and the app in-process, on uvicorn or as its own
process."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import uvicorn
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from db.session import SessionFactory
from devstack.network import LOOPBACK, free_port, wait_until_listening
from devstack.process import child_process
from settings import Settings
from tests.harness.keys import TEST_PAYLOAD_KEYS, TEST_SECRET, bearer
from tests.harness.orders import OrderBody

REPO = Path(__file__).resolve().parents[2]
STARTUP = 10.0  # seconds for uvicorn to listen
PROCESS_STARTUP = 30.0  # seconds for a uvicorn process to listen, or to stop


def suite_settings(postgres_url: str, env: WorkflowEnvironment, **changes: Any) -> Settings:
    """The session's servers, a task queue of its own, a fast world (and `changes`)."""
    fields: dict[str, Any] = {
        "database_url": postgres_url,
        "temporal_address": env.client.service_client.config.target_host,
        "task_queue": f"tq-{uuid4()}",
        "secret_key": TEST_SECRET,
        "payload_keys": TEST_PAYLOAD_KEYS,
        "sim_step_latency": timedelta(0),
        "sim_delivery_delay": timedelta(milliseconds=200),
    }
    return Settings(**(fields | changes))


def migrate(url: str) -> None:
    """`alembic upgrade head` against `url` (a subprocess: alembic's env runs its own loop)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, "OMS_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def libpq(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL as psycopg takes it, on another database if given."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.set(database=database or parsed.database).render_as_string(hide_password=False)


def new_database(postgres_url: str, prefix: str = "test") -> str:
    """A new, migrated database in the session's PostgreSQL; returns its URL."""
    name = f"{prefix}_{uuid4().hex[:10]}"
    with psycopg.connect(libpq(postgres_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    migrate(fresh)
    return fresh


@asynccontextmanager
async def rolled_back(engine: AsyncEngine) -> AsyncIterator[SessionFactory]:
    """Sessions of one transaction, rolled back afterwards: each session's commit is a savepoint,
    so a test writes and breaks freely. Deferred constraints are checked at once (the customer
    view's trigger counts an order at COMMIT, which never comes here)."""
    async with engine.connect() as conn:
        await conn.begin()
        await conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        yield async_sessionmaker(
            conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        await conn.rollback()


@asynccontextmanager
async def serve_api(settings: Settings, key: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan, called in-process through httpx (with `key`, if given)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    headers = {} if key is None else bearer(key)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://oms.test", headers=headers) as c,
    ):
        yield c


@asynccontextmanager
async def serve_http(settings: Settings, port: int | None = None) -> AsyncIterator[str]:
    """The app as production runs it (lifespan and all): uvicorn on a loopback port (`port`, or a
    free one), as a task of this loop. Yields its base URL."""
    port = port or free_port()
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


@contextmanager
def serve_process(postgres_url: str, temporal_address: str) -> Iterator[str]:
    """`uvicorn api.main:app` as a process of its own, as `make run` starts it; its base URL.

    For sync tests (schemathesis, plain requests), which need a server that runs while they
    block. A process rather than a thread: CPython 3.11.7 can fail an `ast.parse` in one thread
    while another parses too (a traceback being logged by the server, say), which turned a
    failing test's report into a pytest INTERNALERROR. Its task queue is its own and no worker
    polls it: placed orders are stored and wait.
    """
    port = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_TEMPORAL_ADDRESS": temporal_address,
        "OMS_TASK_QUEUE": f"tq-{uuid4()}",
        "OMS_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
        "OMS_SECRET_KEY": TEST_SECRET,
        "OMS_RATE_LIMIT": "100000/second",  # property tests are fast clients, not abusive ones
        "PYTHONPATH": str(REPO),  # `api.main` whatever the working directory
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", LOOPBACK]
    server = child_process([*command, "--port", str(port), "--log-level", "warning"], env=env)
    try:
        wait_until_listening("uvicorn", server, port, PROCESS_STARTUP)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.terminate()
        try:
            server.wait(PROCESS_STARTUP)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def place_while_temporal_is_down(
    settings: Settings, api_key: str, body: OrderBody, key: str | None = None
) -> httpx.Response:
    """POST the order to an API whose Temporal is unreachable: the answer (a 503) it gives."""
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with serve_api(down, api_key) as api_without_temporal:
        return await api_without_temporal.post(
            "/v1/orders", json=body, headers={"Idempotency-Key": key or str(uuid4())}
        )
