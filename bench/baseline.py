"""Phase 1, the limit: no-op workflows of 14 activities on the same server and worker options."""

from datetime import timedelta

from temporalio.client import Client

from bench.drive import Count, StartOne, Throughput, measure
from bench.noop import NOOP_QUEUE, NoopWorkflow

START_TIMEOUT = timedelta(seconds=10)  # like the API's: a stalled server is a failure, not a hang


def starter(client: Client, prefix: str) -> StartOne:
    """Starts no-op workflow i with a bare `start_workflow`, as the API would with an order."""

    async def start(i: int) -> bool:
        await client.start_workflow(
            NoopWorkflow.run,
            f"{prefix}-{i}",
            id=f"noop-{prefix}-{i}",
            task_queue=NOOP_QUEUE,
            rpc_timeout=START_TIMEOUT,
        )
        return True

    return start


def completed_counter(client: Client) -> Count:
    """Counts completed no-op workflows through Temporal's visibility (one call per poll)."""
    query = f'TaskQueue = "{NOOP_QUEUE}" AND ExecutionStatus = "Completed"'

    async def count() -> int:
        return (await client.count_workflows(query)).count

    return count


async def measure_baseline(client: Client, total: int, clients: int) -> Throughput:
    """Warm up with `clients` workflows, then start `total` and time them to completion."""
    count = completed_counter(client)
    await measure("warm-up", clients, clients, starter(client, "warm"), count)
    return await measure("baseline", total, clients, starter(client, "bench"), count)
