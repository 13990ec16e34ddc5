"""Each fault test gets a stack of its own (fresh servers, files in its tmp_path), stocked."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.session import create_engine, create_session_factory
from security.roles import Role
from tests.harness.keys import issue_key
from tests.harness.servers import serve_api
from tests.harness.shop import Shop
from tests.harness.stack import start_processes


@pytest.fixture
def world() -> dict[str, str]:
    """Extra OMS_* variables for the workers; a test overrides it with `parametrize`."""
    return {}


@pytest.fixture
async def shop(tmp_path: Path, world: dict[str, str]) -> AsyncIterator[Shop]:
    """PostgreSQL, Temporal and the API up, SKUs stocked; the test starts its own workers."""
    stack = start_processes(tmp_path, world)
    try:
        engine = create_engine(stack.settings)
        try:
            sessions = create_session_factory(engine)
            admin = await issue_key(sessions, stack.settings, Role.ADMIN)  # in its own database
            async with serve_api(stack.settings, admin) as api:
                shop = Shop(api=api, sessions=sessions, stack=stack)
                await shop.stock_up()
                yield shop
        finally:
            await engine.dispose()
    finally:
        stack.stop()
