"""Latency summaries and per-second series, from raw samples."""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Summary:
    """Percentiles of one latency series, in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def to_json(self) -> dict[str, float]:
        return asdict(self)

    def triple(self) -> str:
        """'12.3 / 40.1 / 80.0 ms': p50 / p95 / p99."""
        return f"{self.p50_ms:.1f} / {self.p95_ms:.1f} / {self.p99_ms:.1f} ms"


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, interpolated between neighbours."""
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(seconds: Sequence[float]) -> Summary:
    """Summary of latencies given in seconds."""
    ordered = sorted(s * 1000 for s in seconds)
    return Summary(
        count=len(ordered),
        mean_ms=sum(ordered) / len(ordered) if ordered else math.nan,
        p50_ms=percentile(ordered, 50),
        p95_ms=percentile(ordered, 95),
        p99_ms=percentile(ordered, 99),
        max_ms=ordered[-1] if ordered else math.nan,
    )


def per_second(samples: Sequence[tuple[float, int]]) -> list[int]:
    """Completions in each whole second from (seconds since start, cumulative count) samples."""
    if not samples:
        return []
    series: list[int] = []
    previous, index = 0, 0
    for second in range(1, math.ceil(samples[-1][0]) + 1):
        while index + 1 < len(samples) and samples[index + 1][0] <= second:
            index += 1
        count = samples[index][1] if samples[index][0] <= second else 0
        series.append(count - previous)
        previous = count
    return series


def ratio(value: float, reference: float) -> float:
    """value / reference, NaN when the reference is zero or missing."""
    return value / reference if reference else math.nan
