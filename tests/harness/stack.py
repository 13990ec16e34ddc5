"""The OMS as real, separate processes in one folder of a test's own, so a test can break them.

PostgreSQL and Temporal (state in a file on disk) are embedded servers on free ports; each worker
is `python worker.py` with OMS_* variables, as in production. Only the API runs in the test's
process (see shop.py), so the test can keep asking it questions while the others fail.
"""

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from devstack.network import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.process import child_process
from devstack.temporal import EmbeddedTemporal
from settings import Settings
from tests.harness.keys import TEST_PAYLOAD_KEYS, TEST_SECRET
from tests.harness.servers import REPO, migrate

# A world slow enough that orders are really in flight when a fault hits, yet quick to finish.
WORLD = {"OMS_SIM_STEP_LATENCY": "PT0.1S", "OMS_SIM_DELIVERY_DELAY": "PT0.5S"}
LOG_TAIL = 3000  # characters of worker log quoted in a failure message


@dataclass
class Processes:
    """Everything but the API: PostgreSQL, Temporal and the workers, each restartable."""

    root: Path
    postgres: EmbeddedPostgres
    temporal: EmbeddedTemporal
    world: dict[str, str]
    task_queue: str = field(default_factory=lambda: f"faults-{uuid4().hex[:8]}")
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        """What the API (and the test) are configured with."""
        return Settings(
            database_url=self.postgres.url,
            temporal_address=self.temporal.address,
            task_queue=self.task_queue,
            payload_keys=TEST_PAYLOAD_KEYS,
            secret_key=TEST_SECRET,
        )

    def start_worker(self, world: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """`python worker.py` against this stack, `world` over the stack's own OMS_* variables;
        its output goes to worker-<n>.log."""
        env = {
            **os.environ,
            "OMS_DATABASE_URL": self.postgres.url,
            "OMS_TEMPORAL_ADDRESS": self.temporal.address,
            "OMS_TASK_QUEUE": self.task_queue,
            "OMS_PAYLOAD_KEYS": TEST_PAYLOAD_KEYS,
            "OMS_SECRET_KEY": TEST_SECRET,  # webhook secrets are sealed with it
            "PYTHONUNBUFFERED": "1",
            **WORLD,
            **self.world,
            **(world or {}),
        }
        with self._worker_log(len(self.workers)).open("ab") as log:
            worker = child_process(
                [sys.executable, str(REPO / "worker.py")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no clean-up, no last words, as when a machine dies."""
        worker.send_signal(signal.SIGKILL)
        worker.wait()

    async def restart_temporal(self, down: float) -> None:
        """Stop the dev server, leave it down for `down` s, start it on the same file and port."""
        self.temporal.stop()
        await asyncio.sleep(down)
        self.temporal.start()

    async def restart_postgres(self, down: float) -> None:
        """Fast shutdown (open transactions roll back), `down` s, start on the same data."""
        self.postgres.stop()
        await asyncio.sleep(down)
        self.postgres.start()

    def dead_workers(self) -> list[int]:
        """Exit codes of workers that died without being killed by the test."""
        return [code for w in self.workers if (code := w.poll()) not in (None, -signal.SIGKILL)]

    def worker_logs(self) -> list[str]:
        """What each worker wrote so far, in the order they started."""
        return [self._worker_log(n).read_text() for n in range(len(self.workers))]

    def log_tail(self) -> str:
        """The end of each worker's log, for a failure message."""
        return "\n".join(
            f"--- worker-{n}.log (end) ---\n{text[-LOG_TAIL:]}"
            for n, text in enumerate(self.worker_logs())
        )

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                self.kill_worker(worker)
        self.temporal.stop()
        self.postgres.stop()

    def _worker_log(self, n: int) -> Path:
        return self.root / f"worker-{n}.log"


def start_processes(root: Path, world: dict[str, str]) -> Processes:
    """A migrated PostgreSQL and a Temporal dev server with its state in root/temporal."""
    postgres = EmbeddedPostgres(root / "postgres", free_port())
    postgres.start()
    try:
        migrate(postgres.url)
        temporal = EmbeddedTemporal(root / "temporal", free_port())
        temporal.start()
    except BaseException:
        postgres.stop()
        raise
    return Processes(root=root, postgres=postgres, temporal=temporal, world=world)
