"""The run's figures as a table (stdout) and as JSON with the raw numbers."""

import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass

from bench.progress import say
from bench.run import Results
from bench.stack import REPO
from bench.stats import ratio


@dataclass(frozen=True, kw_only=True)
class Row:
    """One line of the table: a figure, its value, its goal, the ratio the goal is about."""

    figure: str
    value: str
    goal: str = ""
    ratio: float | None = None
    ok: bool | None = None


def _judged(figure: str, value: str, goal: str, share: float, ok: bool) -> Row:
    """A row with a goal; no verdict when the ratio could not be computed."""
    if math.isnan(share):
        return Row(figure=figure, value=value, goal=goal)
    return Row(figure=figure, value=value, goal=goal, ratio=share, ok=ok)


def _cpu(cpu: dict[str, float]) -> str:
    ordered = sorted(cpu.items(), key=lambda item: -item[1])
    return ", ".join(f"{part} {share:.0f}%" for part, share in ordered)


def _throughput_rows(results: Results) -> list[Row]:
    base, pipe = results.baseline, results.pipeline
    rows = []
    if base is not None:
        value = f"{base.per_s:.1f}/s ({base.completed}/{base.total} in {base.elapsed_s:.1f}s)"
        rows.append(Row(figure="1 no-op workflows/s (14 activities)", value=value, goal="limit"))
        rows.append(Row(figure="  CPU, % of all cores", value=_cpu(base.cpu)))
    if pipe is not None:
        value = f"{pipe.per_s:.1f}/s ({pipe.completed}/{pipe.total} in {pipe.elapsed_s:.1f}s)"
        if pipe.failures:
            value += f", {pipe.failures} POSTs refused"
        share = ratio(pipe.per_s, base.per_s if base else 0)
        rows.append(_judged("2 orders completed/s", value, ">= 0.8 x (1)", share, share >= 0.8))
        rows.append(Row(figure="  CPU, % of all cores", value=_cpu(pipe.cpu)))
    return rows


def _delivery_rows(results: Results) -> list[Row]:
    """--subscribers: what became of the pipeline's events and mails, and how late."""
    drain = results.drain
    if drain is None:
        return []
    done = f"{drain.delivered}/{drain.deliveries} in {drain.attempts} POSTs, "
    done += f"{drain.sent}/{drain.mails} mails"
    after = f"{drain.drained_s:.1f}s" + (" (gave up)" if drain.timed_out else "")
    return [
        Row(figure=f"2b webhooks to {drain.subscribers} subscriber(s)", value=done),
        Row(figure="2b all done after the last order", value=after),
        Row(figure="2b event → webhook 2xx p50/p95/p99", value=drain.delivery_lag.triple()),
        Row(figure="2b event → mail sent p50/p95/p99", value=drain.mail_lag.triple()),
        Row(figure="  CPU meanwhile, % of all cores", value=_cpu(drain.cpu)),
    ]


def _acceptance_rows(results: Results) -> list[Row]:
    base, pipe = results.baseline, results.pipeline
    rows = []
    if pipe is not None:
        rows.append(Row(figure="3 POST /v1/orders p50/p95/p99", value=pipe.latency.triple()))
    if base is not None:
        rows.append(Row(figure="3 start_workflow p50/p95/p99", value=base.latency.triple()))
    if base is not None and pipe is not None:
        share = ratio(pipe.latency.p99_ms, base.latency.p99_ms)
        value = f"{pipe.latency.p99_ms:.1f} / {base.latency.p99_ms:.1f} ms"
        rows.append(_judged("3 p99 POST / p99 start", value, "<= 1.5", share, share <= 1.5))
    return rows


def _hot_rows(results: Results) -> list[Row]:
    repo, raw = results.hot_repository, results.hot_raw
    if repo is None or raw is None:
        return []
    share = ratio(repo.per_s, raw.per_s)
    oversold = repo.oversold + raw.oversold
    return [
        Row(
            figure="4 StockRepository.reserve",
            value=f"{repo.per_s:.0f}/s ({repo.reserved}/{repo.stock} reserved)",
        ),
        Row(
            figure="4 raw conditional UPDATE",
            value=f"{raw.per_s:.0f}/s ({raw.reserved}/{raw.stock} reserved)",
        ),
        _judged("4 reserve / raw", f"{share:.2f}", ">= 0.5", share, share >= 0.5),
        Row(figure="4 units oversold", value=str(oversold), goal="= 0", ok=oversold == 0),
    ]


def _read_rows(results: Results) -> list[Row]:
    rows = []
    for level in results.reads:
        load = (
            f"+{level.loaded:,} by COPY {level.load_s:.1f}s, VACUUM ANALYZE {level.vacuum_s:.1f}s"
        )
        rows.append(Row(figure=f"5 read model at {level.rows:,} orders", value=load))
        for kind, summary in level.pages.items():
            rows.append(Row(figure=f"5   GET {kind} page p50/p95/p99", value=summary.triple()))
    if len(results.reads) >= 2:
        small, large = results.reads[0], results.reads[-1]
        for kind in small.pages:
            share = ratio(large.pages[kind].p99_ms, small.pages[kind].p99_ms)
            figure = f"5 p99 {kind}: {large.rows:,} / {small.rows:,}"
            rows.append(_judged(figure, f"{share:.2f}", "<= 2", share, share <= 2))
    return rows


def table_rows(results: Results) -> list[Row]:
    """Every figure of the run, in phase order."""
    return [
        *_throughput_rows(results),
        *_delivery_rows(results),
        *_acceptance_rows(results),
        *_hot_rows(results),
        *_read_rows(results),
    ]


def print_table(rows: list[Row]) -> None:
    """The table on stdout: figure | value | goal | ratio | ok/miss."""
    header = Row(figure="figure", value="value", goal="goal")
    cells = [
        (
            row.figure,
            row.value,
            row.goal,
            "" if row.ratio is None else f"{row.ratio:.2f}",
            "" if row.ok is None else "ok" if row.ok else "miss",
        )
        for row in rows
    ]
    cells.insert(0, (header.figure, header.value, header.goal, "ratio", "ok/miss"))
    widths = [max(len(cell[i]) for cell in cells) for i in range(5)]
    say("")
    for n, cell in enumerate(cells):
        say(
            " | ".join(text.ljust(width) for text, width in zip(cell, widths, strict=True)).rstrip()
        )
        if n == 0:
            say("-+-".join("-" * width for width in widths))


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return done.stdout.strip()


def to_json(results: Results, rows: list[Row]) -> dict[str, object]:
    """The raw numbers: options, machine, each phase, the table itself, and any errors."""
    options = asdict(results.options) | {"out": str(results.options.out)}
    return {
        "started_at": results.started_at.isoformat(),
        "load_average": {"start": results.load_at_start, "end": os.getloadavg()},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "commit": _commit(),
        "options": options,
        "baseline": results.baseline.to_json() if results.baseline else None,
        "pipeline": results.pipeline.to_json() if results.pipeline else None,
        "order_statuses": results.statuses,
        "deliveries": results.drain.to_json() if results.drain else None,
        "hot_sku": {
            "repository": results.hot_repository.to_json() if results.hot_repository else None,
            "raw": results.hot_raw.to_json() if results.hot_raw else None,
        },
        "read_path": [level.to_json() for level in results.reads],
        "profile": results.profile,
        "table": [asdict(row) for row in rows],
        "errors": results.errors,
    }
