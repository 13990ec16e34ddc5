"""The run as one PNG: latency percentiles, and completions per second over time."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.run import Results
from bench.stats import Summary, per_second

PERCENTILES = ("p50", "p95", "p99")


def _bars(axes: Axes, title: str, series: dict[str, Summary]) -> None:
    """Grouped bars: p50, p95 and p99 (ms, log scale) of each latency series."""
    width = 0.8 / len(PERCENTILES)
    names = list(series)
    for n, name in enumerate(PERCENTILES):
        values = [getattr(series[s], f"{name}_ms") for s in names]
        axes.bar([i + n * width for i in range(len(names))], values, width, label=name)
    axes.set_xticks([i + width for i in range(len(names))], names, rotation=30, ha="right")
    axes.set_yscale("log")
    axes.set_ylabel("ms")
    axes.set_title(title)
    axes.legend()


def _throughput(axes: Axes, results: Results) -> None:
    """Completions per second, second by second, for the baseline and the pipeline."""
    for label, run in (("no-op baseline", results.baseline), ("orders", results.pipeline)):
        if run is not None:
            series = per_second(run.samples)
            axes.plot(range(1, len(series) + 1), series, label=f"{label} ({run.per_s:.1f}/s)")
    axes.set_xlabel("seconds since the first start")
    axes.set_ylabel("completed per second")
    axes.set_title("Throughput over time")
    axes.legend()


def _latencies(results: Results) -> dict[str, Summary]:
    series: dict[str, Summary] = {}
    if results.pipeline is not None:
        series["POST /v1/orders"] = results.pipeline.latency
    if results.baseline is not None:
        series["start_workflow"] = results.baseline.latency
    return series


def _reads(results: Results) -> dict[str, Summary]:
    return {
        f"{kind} @{level.rows:,}": summary
        for level in results.reads
        for kind, summary in level.pages.items()
    }


def write_png(results: Results, path: Path) -> None:
    """Acceptance latency, read-path latency and throughput over time, side by side."""
    figure, (accept, reads, rate) = plt.subplots(1, 3, figsize=(18, 5.5))
    title = f"OMS bench: {results.options.workers} worker(s), {results.options.clients} clients"
    figure.suptitle(f"{title}, {results.started_at:%Y-%m-%d %H:%M} UTC, 2 cores")
    if acceptance := _latencies(results):
        _bars(accept, "Acceptance latency", acceptance)
    if read_series := _reads(results):
        _bars(reads, "GET /v1/orders?limit=50", read_series)
    _throughput(rate, results)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
