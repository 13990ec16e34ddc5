"""Loopback ports: pick a free one, and tell when a child process has started listening on one."""

import socket
import subprocess
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests start servers there)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def is_listening(port: int, host: str = LOOPBACK) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def port_of(address: str) -> int:
    """The port of a `host:port` address."""
    return int(address.rpartition(":")[2])


def wait_until_listening(
    name: str, process: subprocess.Popen[bytes], port: int, timeout: float, host: str = LOOPBACK
) -> None:
    """Return once `process` accepts connections on host:port; raise if it exits or times out."""
    deadline = time.monotonic() + timeout
    while not is_listening(port, host):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} is not listening on {host}:{port} after {timeout:.0f}s")
        time.sleep(0.1)
