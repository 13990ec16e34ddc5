"""`python -m bench.noop_worker`: a no-op baseline worker process, with the OMS worker's options."""

import asyncio

from temporalio.worker import Worker

from bench.noop import NoopWorkflow, noop
from settings import get_settings
from temporal_client import connect_temporal
from worker import worker_options


async def main() -> None:
    """Run NoopWorkflow and its activity on OMS_TASK_QUEUE until the process is stopped."""
    settings = get_settings()
    client = await connect_temporal(settings)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[NoopWorkflow],
        activities=[noop],
        **worker_options(),
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
