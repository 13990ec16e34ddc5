"""WebhookDeliveryWorkflow: one event to one endpoint, POSTed until a 2xx or for 3 days.

The relay makes the first attempt itself (integration/dispatch.py) and starts this workflow only
when that failed, saying so in the input. Attempts follow a growing schedule (seconds, then
minutes, then hours). The waits are durable timers: a receiver down for an hour gets the event on
the first attempt after it is back, and a worker restart loses no retry. A failed attempt is
recorded with the time of the next; once the window is over the delivery ends `failed` and, if
nothing reached its endpoint for that long, the endpoint is disabled. `retry_now` (support's
retry) cuts the current wait short.
"""

from contextlib import suppress
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ActivityName
    from workflows.integration_contracts import (
        AttemptInput,
        AttemptOutcome,
        AttemptResult,
        DeliveryInput,
        GiveUpInput,
        RetryNow,
    )

A = ActivityName
# The wait after the n-th failed attempt; the last one repeats until the window ends.
SCHEDULE = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
)
WINDOW = timedelta(days=3)
# One POST is bounded by 10 s (integration/webhooks.py); the rest is our own database. A worker
# that dies mid-attempt delays the retry by this much.
ATTEMPT_TIMEOUT = timedelta(seconds=15)
OWN_DB = RetryPolicy(
    initial_interval=timedelta(milliseconds=500), maximum_interval=timedelta(seconds=30)
)


def wait_after(attempt: int) -> timedelta:
    return SCHEDULE[min(attempt, len(SCHEDULE)) - 1]


@workflow.defn
class WebhookDeliveryWorkflow:
    """Deliver one event to one endpoint, at least once, retrying for `WINDOW`."""

    @workflow.init
    def __init__(self, input: DeliveryInput) -> None:  # noqa: ARG002 (the SDK's shape)
        self._retry_now = False

    @workflow.run
    async def run(self, input: DeliveryInput) -> AttemptOutcome:
        first = input.first_attempt_at or workflow.now()
        attempt = input.attempts_made  # the relay's own first attempt, when it made one
        if input.next_attempt_at is not None:
            await self._wait_until(input.next_attempt_at, attempt)
        while True:
            attempt += 1
            wait = wait_after(attempt)
            due = workflow.now() + wait
            next_at = due if due - first <= WINDOW else None
            result = await self._attempt(input.delivery_id, attempt, next_at)
            if result.outcome is not AttemptOutcome.FAILED:
                return result.outcome
            if next_at is None:
                await self._give_up(input.delivery_id, first)
                return result.outcome
            await self._wait(wait, next_at, attempt, result)

    @workflow.signal
    def retry_now(self, request: RetryNow) -> None:  # noqa: ARG002 (who asked is in the audit)
        """Try again at once instead of at the scheduled time."""
        self._retry_now = True

    async def _attempt(
        self, delivery_id: str, attempt: int, next_at: datetime | None
    ) -> AttemptResult:
        result: AttemptResult = await workflow.execute_activity(
            A.DELIVER_WEBHOOK,
            AttemptInput(delivery_id=delivery_id, attempt=attempt, next_attempt_at=next_at),
            result_type=AttemptResult,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=OWN_DB,  # the POST's own failures are results, not errors
            summary=f"POST, attempt {attempt}",
        )
        return result

    async def _wait(
        self, wait: timedelta, until: datetime, attempt: int, failed: AttemptResult
    ) -> None:
        workflow.set_current_details(
            f"attempt {attempt} failed ({failed.error}); next at {until:%Y-%m-%d %H:%M:%S} UTC"
        )
        with suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._retry_now, timeout=wait)
        self._retry_now = False
        workflow.set_current_details("")

    async def _wait_until(self, due: datetime, attempt: int) -> None:
        wait = due - workflow.now()
        if wait > timedelta(0):
            workflow.set_current_details(f"attempt {attempt} failed; next at {due:%H:%M:%S} UTC")
            with suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._retry_now, timeout=wait)
            self._retry_now = False
            workflow.set_current_details("")

    async def _give_up(self, delivery_id: str, first: datetime) -> None:
        await workflow.execute_activity(
            A.GIVE_UP_WEBHOOK,
            GiveUpInput(delivery_id=delivery_id, failing_since=first),
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=OWN_DB,
            summary="Give up after 3 days",
        )
