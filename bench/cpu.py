"""CPU seconds per part of the stack (from /proc), to tell where a phase's time went."""

import os
from collections import defaultdict
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children) or None when gone."""
    try:
        fields = (PROC / pid / "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS


def _part(pid: str) -> str:
    """Which part of the stack a process belongs to, from its command line."""
    try:
        cmdline = (PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    for needle, part in (
        ("temporal", "temporal"),
        ("postgres", "postgres"),
        ("bench.receiver", "receiver"),  # before uvicorn, which runs it
        ("mail.catcher", "mail"),
        ("uvicorn", "api"),
        ("worker", "worker"),
    ):
        if needle in cmdline:
            return part
    return "other"


def cpu_by_part() -> dict[str, float]:
    """CPU seconds so far of this process ('bench') and of each part among its descendants."""
    stats = {pid.name: _stat(pid.name) for pid in PROC.iterdir() if pid.name.isdigit()}
    children: dict[int, list[str]] = defaultdict(list)
    for pid, stat in stats.items():
        if stat is not None:
            children[stat[0]].append(pid)
    totals: dict[str, float] = defaultdict(float)
    me = str(os.getpid())
    own = stats.get(me)
    totals["bench"] = own[1] if own else 0.0
    stack, parts = list(children[int(me)]), dict[str, str]()
    while stack:
        pid = stack.pop()
        parent_part = parts.get(pid)
        parts[pid] = part = parent_part or _part(pid)
        stat = stats[pid]
        totals[part] += stat[1] if stat else 0.0
        for child in children[int(pid)]:
            parts[child] = part  # a postgres backend counts as postgres, and so on
            stack.append(child)
    return dict(totals)


def cpu_share(before: dict[str, float], after: dict[str, float], wall_s: float) -> dict[str, float]:
    """Each part's share of the machine (all cores) between two readings, as percentages."""
    if wall_s <= 0:
        return {}
    return {
        part: round(100 * (after[part] - before.get(part, 0.0)) / (wall_s * CPUS), 1)
        for part in sorted(after)
    }
