"""What the API remembers about keys between requests, per process: how often each was used in
the rate limit's windows, and when its `last_used_at` was last written. Nothing about whether a
key is valid is remembered: that is read from the database on every request, so a revoked key
stops working at once on every process."""

import math
import time
from datetime import datetime, timedelta

from limits import parse_many, storage, strategies

from settings import Settings

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is this precise: one write a minute per key


class RateLimited(Exception):
    """A key used more often than the rate limit allows; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded: retry after {retry_after} s")
        self.retry_after = retry_after


class KeyGuard:
    """The server secret API keys are hashed with, per-key rate limits, and use timestamps."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.server_secret()  # first: no server secret, no API
        self._limits = parse_many(settings.rate_limit)
        self._limiter = strategies.SlidingWindowCounterRateLimiter(storage.MemoryStorage())
        self._touched: dict[str, float] = {}

    def admit(self, key_id: str) -> None:
        """Count one request of this key, or raise RateLimited when a window is full."""
        full = [limit for limit in self._limits if not self._limiter.test(limit, key_id)]
        if full:
            reset = max(self._limiter.get_window_stats(limit, key_id).reset_time for limit in full)
            raise RateLimited(max(1, math.ceil(reset - time.time())))
        for limit in self._limits:
            self._limiter.hit(limit, key_id)

    def due_for_touch(self, key_id: str, now: datetime) -> bool:
        """Whether this process should write the key's last use now (then not for a minute)."""
        moment = now.timestamp()
        if moment - self._touched.get(key_id, -math.inf) < TOUCH_EVERY.total_seconds():
            return False
        self._touched[key_id] = moment
        return True
