"""Load from concurrent clients, and a watcher that counts completions until all are done."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.cpu import cpu_by_part, cpu_share
from bench.progress import Bar
from bench.stats import Summary, per_second, summarize

log = logging.getLogger(__name__)
POLL = 0.1  # seconds between two completion counts
GIVE_UP_S = 120.0  # plus 0.5 s per unit: a stuck system ends the phase, never hangs the run

StartOne = Callable[[int], Awaitable[bool]]
Count = Callable[[], Awaitable[int]]


@dataclass(frozen=True, kw_only=True)
class Throughput:
    """`total` units started by concurrent clients, and how fast they completed."""

    total: int
    completed: int
    elapsed_s: float  # first start → the count that saw the last completion
    failures: int  # starts that did not succeed
    timed_out: bool
    latency: Summary  # of the starts (POST or start_workflow)
    samples: list[tuple[float, int]]  # (seconds since the first start, completed so far)
    cpu: dict[str, float]  # % of the machine (all cores) used by each part meanwhile

    @property
    def per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            **{k: getattr(self, k) for k in ("total", "completed", "elapsed_s", "failures")},
            "timed_out": self.timed_out,
            "per_s": self.per_s,
            "start_latency": self.latency.to_json(),
            "completed_per_second": per_second(self.samples),
            "samples": [[round(t, 3), n] for t, n in self.samples],
            "cpu_percent_of_machine": self.cpu,
        }


async def drive(total: int, clients: int, start_one: StartOne, bar: Bar) -> tuple[list[float], int]:
    """Call `start_one(i)` for each i < total from `clients` tasks; latencies (s) and failures."""
    latencies: list[float] = []
    failures = 0
    indexes = iter(range(total))  # shared: each index is taken by exactly one client

    async def client() -> None:
        nonlocal failures
        for i in indexes:
            began = time.perf_counter()
            try:
                ok = await start_one(i)
            except Exception as err:
                log.debug("start %d failed: %s", i, err)
                ok = False
            latencies.append(time.perf_counter() - began)
            failures += not ok
            bar.advance()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures


async def watch(
    count: Count, target: int, began: float, give_up_s: float, bar: Bar
) -> list[tuple[float, int]]:
    """Poll `count` until it reaches `target` or `give_up_s` seconds pass; the samples."""
    samples: list[tuple[float, int]] = []
    while True:
        done = await count()
        elapsed = time.perf_counter() - began
        samples.append((elapsed, done))
        bar.show(done)
        if done >= target or elapsed > give_up_s:
            return samples
        await asyncio.sleep(POLL)


async def measure(
    label: str, total: int, clients: int, start_one: StartOne, completed: Count
) -> Throughput:
    """Start `total` units from `clients` clients while counting completions (bounded wait)."""
    base = await completed()

    async def fresh() -> int:
        return await completed() - base

    with (
        Bar(f"{label}: started", total, "wf", 0) as started,
        Bar(f"{label}: completed", total, "wf", 1) as finished,
    ):
        cpu_before, began = cpu_by_part(), time.perf_counter()
        (latencies, failures), samples = await asyncio.gather(
            drive(total, clients, start_one, started),
            watch(fresh, total, began, GIVE_UP_S + total * 0.5, finished),
        )
    last, cpu_after = samples[-1], cpu_by_part()
    return Throughput(
        total=total,
        completed=last[1],
        elapsed_s=last[0],
        failures=failures,
        timed_out=last[1] < total,
        latency=summarize(latencies),
        samples=samples,
        cpu=cpu_share(cpu_before, cpu_after, last[0]),
    )
