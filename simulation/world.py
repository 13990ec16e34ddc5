"""What the simulated outside systems share: their latency and their flakiness."""

import asyncio
import random
from dataclasses import dataclass
from datetime import timedelta

from settings import Settings


class SimulatedOutage(RuntimeError):
    """A transient failure injected on purpose; Temporal retries it like a real one."""


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    step_latency: timedelta = timedelta(0)
    delivery_delay: timedelta = timedelta(0)
    failure_rate: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SimulationConfig":
        return cls(
            step_latency=settings.sim_step_latency,
            delivery_delay=settings.sim_delivery_delay,
            failure_rate=settings.sim_failure_rate,
        )

    async def call(self, what: str) -> None:
        """Take as long as a real call would, and fail as often as configured."""
        if self.step_latency > timedelta(0):
            await asyncio.sleep(self.step_latency.total_seconds())
        if self.failure_rate and random.random() < self.failure_rate:
            raise SimulatedOutage(f"simulated outage during {what}")
