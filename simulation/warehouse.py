"""A warehouse simulated in PostgreSQL: one pick list and one package per order."""

from uuid import uuid4

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from db.models import SimWarehouseRecord
from db.session import SessionFactory
from simulation.world import SimulationConfig
from workflows.contracts import StockLine


class SimulatedWarehouse:
    """Tasks are keyed by (order, kind): a retried pick finds the first pick list."""

    def __init__(self, sessions: SessionFactory, config: SimulationConfig) -> None:
        self._sessions, self._config = sessions, config

    async def pick(self, order_id: str, lines: list[StockLine]) -> str:
        del lines  # the simulation picks whatever it is told
        return await self._task(order_id, "pick")

    async def pack(self, order_id: str, lines: list[StockLine]) -> str:
        del lines
        return await self._task(order_id, "pack")

    async def cancel(self, order_id: str, kind: str) -> None:
        await self._config.call(f"cancel {kind}")
        async with self._sessions.begin() as session:
            await session.execute(
                update(SimWarehouseRecord)
                .where(SimWarehouseRecord.order_id == order_id, SimWarehouseRecord.kind == kind)
                .values(status="cancelled")
            )

    async def _task(self, order_id: str, kind: str) -> str:
        await self._config.call(kind)
        async with self._sessions.begin() as session:
            await session.execute(
                insert(SimWarehouseRecord)
                .values(order_id=order_id, kind=kind, reference=f"{kind}-{uuid4()}", status="done")
                .on_conflict_do_nothing()
            )
            task = await session.get_one(SimWarehouseRecord, (order_id, kind))
        return task.reference
