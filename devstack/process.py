"""Child processes that die with their parent, so a killed supervisor never leaves orphans."""

import ctypes
import signal
import subprocess
from collections.abc import Sequence
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec, after any user switch (which would clear it).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def child_process(
    args: Sequence[str],
    *,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
    user: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `args` as a child that gets SIGTERM if this process dies, however it dies.

    The child gets its own process group, so a terminal's Ctrl-C reaches only its parent, which then
    stops its children in order (the API before the database it uses). Its stdin is /dev/null: a
    background process group reading the terminal would be suspended.
    """
    return subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        user=user,
        env=env,
        process_group=0,
        preexec_fn=_die_with_parent,
    )
