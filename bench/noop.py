"""The baseline workflow: as many activities as an order's happy path, each doing nothing."""

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():  # the order's own timeouts and retries
    from workflows.steps import OWN_DB, SHORT

STEPS = 14  # reserve, authorize, pick, pack, create/ship, capture, deliver, 7 record_status
NOOP_QUEUE = "bench-noop"


@activity.defn(name="noop")
async def noop(step: int) -> int:
    """Does nothing: what remains is the cost of one activity round trip through Temporal."""
    return step


@workflow.defn
class NoopWorkflow:
    """Fourteen no-op activities in a row: the most an order workflow could do on this server."""

    @workflow.run
    async def run(self, name: str) -> str:
        for step in range(STEPS):
            await workflow.execute_activity(
                noop, step, start_to_close_timeout=SHORT, retry_policy=OWN_DB
            )
        return name
