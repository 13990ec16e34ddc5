"""Servers for the property tests: the e2e `http` client, and the API as a process of its own.

Sync tests (schemathesis, plain requests) need a server that runs while they block. A uvicorn
process, as `make run` starts it, rather than a thread: CPython 3.11.7 can fail an `ast.parse`
in one thread while another parses too (a traceback being logged by the server, say), which
turned a failing test's report into a pytest INTERNALERROR.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from uuid import uuid4

import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.network import LOOPBACK, free_port, wait_until_listening
from devstack.process import child_process
from tests.conftest import REPO
from tests.e2e.conftest import http as http  # re-exported: the contention test's real HTTP

STARTUP = 30.0  # seconds


@pytest.fixture(scope="session")
def live_url(postgres_url: str, temporal_env: WorkflowEnvironment) -> Iterator[str]:
    """The base URL of `uvicorn api.main:app` on the session's servers.

    Its task queue is its own and no worker polls it: placed orders are stored and wait.
    """
    port = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "OMS_TASK_QUEUE": f"tq-{uuid4()}",
        "PYTHONPATH": str(REPO),  # `api.main` whatever the working directory
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", LOOPBACK]
    server = child_process([*command, "--port", str(port), "--log-level", "warning"], env=env)
    try:
        wait_until_listening("uvicorn", server, port, STARTUP)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.terminate()
        try:
            server.wait(STARTUP)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
