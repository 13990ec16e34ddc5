"""One benchmark run: the five phases against a stack of its own; what each measured."""

import logging
import os
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from bench.baseline import measure_baseline
from bench.deliveries import Drain, measure_drain, start_sinks, subscribe
from bench.drive import Throughput
from bench.hotsku import HotRun, race_raw, race_repository
from bench.noop import NOOP_QUEUE
from bench.options import BenchOptions
from bench.pipeline import measure_pipeline, status_counts, stock_up
from bench.profile import hotspots, profiled
from bench.progress import say
from bench.readpath import ReadLevel, measure_reads
from bench.stack import BenchStack, LoggedProgram, wait_for_workers
from security.payloads import converter_for
from security.roles import Role

log = logging.getLogger(__name__)
ORDERS_QUEUE = "orders"
PROFILE = "profile-worker.raw.txt"  # py-spy samples, in the run's log folder


@dataclass
class Results:
    """Everything one run measured (a phase that failed leaves its part empty, and an error)."""

    options: BenchOptions
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_at_start: tuple[float, float, float] = field(default_factory=os.getloadavg)
    baseline: Throughput | None = None
    pipeline: Throughput | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    drain: Drain | None = None
    hot_repository: HotRun | None = None
    hot_raw: HotRun | None = None
    reads: list[ReadLevel] = field(default_factory=list)
    profile: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _phase(results: Results, name: str, work: Awaitable[None]) -> None:
    """Run one phase; an error is reported and recorded, and the next phases still run."""
    say(f"\n== {name}")
    try:
        await work
    except Exception as err:
        log.exception("phase %s failed", name)
        results.errors.append(f"{name}: {type(err).__name__}: {err}")
        say(f"!! {name} failed: {err}")


async def _baseline(stack: BenchStack, client: Client, results: Results) -> None:
    options = results.options
    workers = stack.start_workers("bench.noop_worker", options.workers, NOOP_QUEUE)
    try:
        await wait_for_workers(client, NOOP_QUEUE, options.workers)
        results.baseline = await measure_baseline(client, options.orders, options.clients)
    finally:
        for worker in workers:
            worker.stop()


def _order_workers(stack: BenchStack, options: BenchOptions) -> list[LoggedProgram]:
    """The OMS's worker processes; with --profile the first one runs under py-spy."""
    if not options.profile:
        return stack.start_workers("worker.py", options.workers, ORDERS_QUEUE)
    args = profiled([sys.executable, "worker.py"], stack.logs / PROFILE)
    first = stack.start_program("orders-worker-0", args, ORDERS_QUEUE, signal.SIGINT)
    return [first, *stack.start_workers("worker.py", options.workers - 1, ORDERS_QUEUE)]


async def _pipeline(
    stack: BenchStack, client: Client, http: httpx.AsyncClient, results: Results
) -> None:
    options = results.options
    workers = _order_workers(stack, options)
    try:
        await wait_for_workers(client, ORDERS_QUEUE, options.workers)
        warehouse = {"Authorization": f"Bearer {await stack.api_key(Role.WAREHOUSE)}"}
        await stock_up(http, options.orders + options.clients, warehouse)
        await subscribe(http, stack, options.subscribers)
        results.pipeline = await measure_pipeline(http, stack.dsn, options.orders, options.clients)
        results.statuses = await status_counts(stack.dsn)
        if options.subscribers:
            results.drain = await measure_drain(stack.dsn, options.subscribers)
    finally:
        for worker in workers:  # the later phases need no worker (a profile is written now)
            worker.stop()
    if options.profile:
        results.profile = hotspots(stack.logs / PROFILE)


async def _hot_sku(stack: BenchStack, results: Results) -> None:
    attempts, clients = results.options.hot_attempts, results.options.clients
    results.hot_repository = await race_repository(stack.postgres.url, stack.dsn, attempts, clients)
    results.hot_raw = await race_raw(stack.dsn, attempts, clients)


async def _reads(stack: BenchStack, http: httpx.AsyncClient, results: Results) -> None:
    results.reads = await measure_reads(http, stack.dsn, results.options.read_rows)


async def run_phases(stack: BenchStack, results: Results) -> None:
    """Baseline, pipeline (with acceptance latency, and with --subscribers its deliveries and
    mails), hot SKU, read path: in that order."""
    client = await Client.connect(
        stack.temporal.address, data_converter=converter_for(stack.payload_keys)
    )
    await _phase(results, "1. baseline: no-op workflows", _baseline(stack, client, results))
    if results.options.subscribers:
        start_sinks(stack)  # before the OMS's processes, which send to them
    stack.start_api()
    limits = httpx.Limits(max_connections=results.options.clients)
    key = {"Authorization": f"Bearer {await stack.api_key(Role.STOREFRONT)}"}
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, limits=limits, headers=key
    ) as http:
        pipeline = _pipeline(stack, client, http, results)
        await _phase(results, "2-3. pipeline: orders over HTTP", pipeline)
        await _phase(results, "4. hot SKU", _hot_sku(stack, results))
        if results.options.read_rows:
            await _phase(results, "5. read path", _reads(stack, http, results))
