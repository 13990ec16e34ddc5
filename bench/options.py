"""The command line of `python -m bench`: sizes, concurrency, worker processes, output folder."""

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    """What one run measures and how hard it pushes."""

    orders: int
    clients: int
    workers: int
    read_rows: tuple[int, ...]
    hot_attempts: int
    out: Path
    profile: bool
    subscribers: int = 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    """'10000,1000000' → (10000, 1000000); '' skips the read path."""
    try:
        return tuple(sorted(_positive(part) for part in text.split(",") if part.strip()))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated row counts") from err


def parse_options(argv: list[str] | None = None) -> BenchOptions:
    """Parse the command line (defaults: 500 orders, 32 clients, 1 worker, 10k and 1M rows, no
    subscribers)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add = parser.add_argument
    add("--orders", type=_positive, default=500, help="orders (and no-op workflows) per run")
    add("--clients", type=_positive, default=32, help="concurrent HTTP clients / starters")
    add("--workers", type=_positive, default=1, help="worker processes")
    add("--read-rows", type=_sizes, default=(10_000, 1_000_000), help="read-model sizes")
    add("--hot-attempts", type=_positive, default=2000, help="reservations on the hot SKU")
    add("--out", type=Path, default=Path("bench-results"), help="results folder")
    add("--profile", action="store_true", help="run the first worker under py-spy")
    add(
        "--subscribers",
        type=_count,
        default=0,
        help="webhook endpoints subscribed to every event (a local receiver), and customer "
        "e-mails to a local mail catcher; 0: neither",
    )
    args = parser.parse_args(argv)
    return BenchOptions(
        orders=args.orders,
        clients=args.clients,
        workers=args.workers,
        read_rows=args.read_rows,
        hot_attempts=args.hot_attempts,
        out=args.out.resolve(),
        profile=args.profile,
        subscribers=args.subscribers,
    )
