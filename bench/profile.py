"""`--profile`: the first worker runs under py-spy; its samples summarized into hotspots."""

import re
import shutil
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")
REPO = str(Path(__file__).resolve().parent.parent)
# Leaves where a thread waits (py-spy can count a blocked pool thread as busy): not work.
IDLE = {("_worker", "thread.py"), ("wait", "threading.py"), ("select", "selectors.py")}


def py_spy() -> Path:
    """The py-spy binary (next to this interpreter or on PATH); `pip install py-spy` if missing."""
    beside = Path(sys.executable).parent / "py-spy"
    found = beside if beside.is_file() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    return Path(found)


def profiled(args: list[str], output: Path) -> list[str]:
    """`args` under py-spy: every Python thread 100 times a second, without pausing the process."""
    record = [str(py_spy()), "record", "--rate", "100", "--nonblocking", "--format", "raw"]
    record += ["--full-filenames"]  # the library of each frame, from its path
    return [*record, "--output", str(output), "--", *args]


def _area(path: str) -> str:
    """The library (or 'oms' for our code) a source file belongs to."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if path.startswith(REPO) and "/.venv/" not in path:
        return "oms"
    return f"stdlib:{Path(path).stem}" if "/lib/python" in path else path


def hotspots(raw: Path, top: int = 10) -> dict[str, list[tuple[str, float]]]:
    """In % of busy samples: functions and libraries by own time, our functions by total time."""
    own: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    roots: Counter[str] = Counter()  # event loop (`<module>`) or a pool thread (`_bootstrap`)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [m for f in stack.split(";") if (m := FRAME.match(f))]
        if not frames or not count.isdigit():
            continue
        leaf, n = frames[-1], int(count)
        if (leaf["function"], Path(leaf["file"]).name) in IDLE:
            continue
        own[f"{leaf['function']} ({leaf['file']})"] += n
        roots[f"{frames[0]['function']} ({Path(frames[0]['file']).name})"] += n
        areas[_area(leaf["file"])] += n
        for name in {f"{m['function']} ({m['file']})" for m in frames if _area(m["file"]) == "oms"}:
            ours[name] += n  # once per sample, however deep it recurses
    total = sum(own.values()) or 1

    def top_of(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {
        "threads": top_of(roots),
        "functions": top_of(own),
        "libraries": top_of(areas),
        "oms_total": top_of(ours),
    }
