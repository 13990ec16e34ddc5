"""The OMS with its integration running, on a database of the test's own: the API over real HTTP,
the real worker, and the relay fanning events out to webhooks and e-mails.

A database of its own, because the relay follows every event of its database: on the session's
shared one it would meet (and mail, and deliver) the other tests' orders.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
from temporalio.testing import WorkflowEnvironment

from db.session import SessionFactory, create_engine, create_session_factory
from integration.relay import Relay
from security.roles import Role
from settings import Settings
from tests.harness.keys import TEST_PAYLOAD_KEYS, TEST_SECRET, bearer, issue_key
from tests.harness.servers import new_database, serve_http
from worker import build_worker


@dataclass
class Integrated:
    settings: Settings
    sessions: SessionFactory
    http: httpx.AsyncClient  # the admin's


def integrated_settings(postgres_url: str, env: WorkflowEnvironment, **changes: Any) -> Settings:
    """A fresh database, a task queue of its own, a fast world; local receivers allowed."""
    return Settings(
        database_url=new_database(postgres_url, "integration"),
        temporal_address=env.client.service_client.config.target_host,
        task_queue=f"tq-{uuid4()}",
        secret_key=TEST_SECRET,
        payload_keys=TEST_PAYLOAD_KEYS,
        sim_step_latency=timedelta(0),
        sim_delivery_delay=timedelta(milliseconds=200),
        webhook_allow_private=True,
        relay_interval=timedelta(milliseconds=50),
        **changes,
    )


@asynccontextmanager
async def integrated(
    settings: Settings, env: WorkflowEnvironment, worker: bool = True
) -> AsyncIterator[Integrated]:
    """The API on uvicorn, and (unless told not to) a worker with the relay beside it, as
    `worker.py` runs them. Yields the stack with an admin client."""
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    admin = await issue_key(sessions, settings, Role.ADMIN)
    try:
        async with (
            serve_http(settings) as url,
            httpx.AsyncClient(base_url=url, headers=bearer(admin)) as http,
        ):
            running = Integrated(settings=settings, sessions=sessions, http=http)
            if not worker:
                yield running
                return
            async with build_worker(env.client, sessions, settings):
                task = asyncio.create_task(Relay(env.client, sessions, settings).run_forever())
                try:
                    yield running
                finally:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
    finally:
        await engine.dispose()
