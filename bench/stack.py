"""The benchmark's own stack: Temporal and PostgreSQL on free ports in a temp dir, OMS processes."""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from db.keys import ApiKeyRepository
from db.session import create_engine, create_session_factory
from devstack.network import LOOPBACK, free_port, wait_until_listening
from devstack.postgres import EmbeddedPostgres
from devstack.process import child_process
from devstack.supervisor import Supervisor
from devstack.temporal import EmbeddedTemporal
from security.payloads import PayloadKey, new_key
from security.roles import Role, default_channel
from settings import Settings

REPO = Path(__file__).resolve().parent.parent
# A world with no latency and no delivery delay: the system is measured, not the simulation.
ZERO_LATENCY = {"OMS_SIM_STEP_LATENCY": "PT0S", "OMS_SIM_DELIVERY_DELAY": "PT0S"}
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


@dataclass
class LoggedProgram:
    """A child process (worker, API) whose output goes to a log file; stopped by `stop_signal`."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    stop_signal: int = signal.SIGTERM
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, f"{self.name} was never started"
        return self._process

    def start(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own descriptor
            self._process = child_process(self.args, stdout=log, stderr=log, env=self.env)

    def stop(self) -> None:
        """The stop signal, then SIGKILL if it has not exited after STOP_TIMEOUT seconds."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(self.stop_signal)
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class BenchStack:
    """Servers and processes of one run; the supervisor stops whatever is left, newest first."""

    def __init__(self, supervisor: Supervisor, workdir: Path, logs: Path) -> None:
        self._supervisor = supervisor
        self.temporal = EmbeddedTemporal(workdir / "temporal", free_port())
        self.postgres = EmbeddedPostgres(workdir / "postgres", free_port())
        self.api_port = free_port()
        self.logs = logs
        self.payload_keys: tuple[PayloadKey, ...] = (new_key(),)  # this run's, in memory only
        self.secret = secrets.token_urlsafe(32)  # OMS_SECRET_KEY: API keys are hashed with it
        # --subscribers: where the webhook receiver listens, and the OMS's mail settings
        self.receiver_url = ""
        self.extra_env: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def dsn(self) -> str:
        """The database URL for psycopg itself (no SQLAlchemy driver suffix)."""
        return self.postgres.url.replace("postgresql+psycopg://", "postgresql://")

    def start_servers(self) -> None:
        """Temporal (SQLite file on disk, as `make run`) and PostgreSQL, migrated to head."""
        self._supervisor.start(self.temporal)
        self._supervisor.start(self.postgres)
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO,
            env={**os.environ, "OMS_DATABASE_URL": self.postgres.url},
            check=True,
            capture_output=True,
            timeout=120,
        )

    async def api_key(self, role: Role) -> str:
        """A key of `role` (a storefront's on channel `default`), issued into the database."""
        engine = create_engine(Settings(database_url=self.postgres.url))
        try:
            async with create_session_factory(engine).begin() as session:
                _, key = await ApiKeyRepository(session).issue(
                    name=f"bench-{role.value}",
                    role=role,
                    channel=default_channel(role),
                    created_by="bench",
                    secret=self.secret.encode(),
                    now=datetime.now(UTC),
                )
        finally:
            await engine.dispose()
        return key

    def start_workers(self, module: str, count: int, task_queue: str) -> list[LoggedProgram]:
        """`count` worker processes of `module` (`worker.py` or a `-m` module) on `task_queue`."""
        args = [sys.executable, *([module] if module.endswith(".py") else ["-m", module])]
        return [
            self.start_program(f"{task_queue}-worker-{n}", args, task_queue) for n in range(count)
        ]

    def start_api(self) -> LoggedProgram:
        """The API under uvicorn, as `make run` starts it; returns once it listens."""
        args = [sys.executable, "-m", "uvicorn", "api.main:app"]
        args += ["--host", LOOPBACK, "--port", str(self.api_port)]
        api = self.start_program("api", args, "orders")
        wait_until_listening(api.name, api.process, self.api_port, START_TIMEOUT)
        return api

    def start_program(
        self, name: str, args: list[str], task_queue: str, stop_signal: int = signal.SIGTERM
    ) -> LoggedProgram:
        """Start one OMS process with the stack's environment; the supervisor owns it."""
        program = LoggedProgram(
            name, args, self.env(task_queue), self.logs / f"{name}.log", stop_signal
        )
        self._supervisor.start(program)
        return program

    def env(self, task_queue: str) -> dict[str, str]:
        """This process's environment plus where the stack is, for the OMS processes."""
        inherited = {k: v for k, v in os.environ.items() if k != "OMS_SMTP_URL"}  # never a real one
        return {
            **inherited,
            "OMS_DATABASE_URL": self.postgres.url,
            "OMS_TEMPORAL_ADDRESS": self.temporal.address,
            "OMS_TASK_QUEUE": task_queue,
            "OMS_API_HOST": LOOPBACK,
            "OMS_API_PORT": str(self.api_port),
            "OMS_PAYLOAD_KEYS": ",".join(key.line() for key in self.payload_keys),
            "OMS_SECRET_KEY": self.secret,
            # The bench measures the stack, not the limiter: counted, never refused.
            "OMS_RATE_LIMIT": "1000000/second",
            **ZERO_LATENCY,
            **self.extra_env,
            "PYTHONUNBUFFERED": "1",
        }


async def wait_for_workers(client: Client, task_queue: str, count: int) -> None:
    """Return once `count` distinct workers poll `task_queue` for workflow tasks (bounded)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        answer = await client.workflow_service.describe_task_queue(request)
        if len({poller.identity for poller in answer.pollers}) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} workers did not poll {task_queue} in {START_TIMEOUT:.0f}s")
        await asyncio.sleep(0.2)
