"""The API as a process of its own, for the sync property tests (schemathesis, plain requests)."""

from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from security.roles import Role
from tests.harness.keys import bearer
from tests.harness.servers import serve_process


@pytest.fixture(scope="session")
def live_url(postgres_url: str, temporal_env: WorkflowEnvironment) -> Iterator[str]:
    """The base URL of `uvicorn api.main:app` on the session's servers; no worker polls it."""
    temporal_address = temporal_env.client.service_client.config.target_host
    with serve_process(postgres_url, temporal_address) as url:
        yield url


@pytest.fixture(scope="session")
def admin(role_keys: dict[Role, str]) -> dict[str, str]:
    """The headers of an admin key: the property tests reach every route, authenticated."""
    return bearer(role_keys[Role.ADMIN])
