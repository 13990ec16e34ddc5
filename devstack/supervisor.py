"""Start services in order and stop them in reverse: on SIGINT/SIGTERM, or as soon as one dies."""

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Protocol, Self

from devstack.process import child_process

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Service(Protocol):
    """Anything that starts and stops: the embedded servers, and `Program`."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Stopped(Exception):
    """SIGINT or SIGTERM asked the stack to stop."""


@dataclass
class Program:
    """A long-running child that should never exit on its own: the worker or the API."""

    name: str
    args: list[str]
    env: dict[str, str]
    stop_timeout: float = 15.0
    _process: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, f"{self.name} was never started"
        return self._process

    def start(self) -> None:
        self._process = child_process(self.args, env=self.env)

    def stop(self) -> None:
        """SIGTERM (graceful for uvicorn and a Temporal worker), SIGKILL after `stop_timeout`."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            print(f"devstack: {self.name} ignored SIGTERM for {self.stop_timeout:.0f}s; killing it")
            self._process.kill()
            self._process.wait()

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


class Supervisor:
    """Owns what it started; leaving its `with` block stops everything, newest first.

    Its children run in their own process groups, so a terminal's Ctrl-C reaches only this process,
    which then stops them in order: the API and worker before the servers they depend on.
    """

    def __init__(self) -> None:
        self._started: list[Service] = []
        self._programs: list[Program] = []

    def __enter__(self) -> Self:
        for signum in STOP_SIGNALS:
            signal.signal(signum, _raise_stopped)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the orderly stop short
            signal.signal(signum, signal.SIG_IGN)
        self.stop_all()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def start(self, service: Service) -> None:
        """Start `service` and own it (even if its start fails half-way, so it is stopped too)."""
        self._started.append(service)
        service.start()
        if isinstance(service, Program):
            self._programs.append(service)

    def wait(self) -> int:
        """Block until a program exits on its own (returns 1) or a signal raises `Stopped`."""
        while True:
            for program in self._programs:
                if (code := program.exit_code()) is not None:
                    print(f"devstack: {program.name} exited with code {code}", file=sys.stderr)
                    return 1
            time.sleep(0.2)

    def stop_all(self) -> None:
        """Stop every started service, newest first; one failing to stop does not spare the rest."""
        while self._started:
            service = self._started.pop()
            try:
                service.stop()
            except Exception as error:  # keep stopping the others whatever went wrong
                name = type(service).__name__
                print(f"devstack: stopping {name} failed: {error}", file=sys.stderr)
