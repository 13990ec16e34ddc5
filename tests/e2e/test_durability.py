"""SIGKILL the worker while orders are in flight: a new one finishes every order, exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from db.models import InventoryRecord, MovementRecord, SimPaymentRecord, SimShipmentRecord
from db.session import SessionFactory
from settings import Settings
from tests.conftest import MakeOrderBody, wait_for_status
from tests.e2e.storefront import TERMINAL, place, stock

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ORDERS = 20


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    """`python worker.py` as its own process, as in production, with a slow simulated world."""
    env = {
        **os.environ,
        "OMS_DATABASE_URL": settings.require_database_url(),
        "OMS_TEMPORAL_ADDRESS": settings.temporal_address,
        "OMS_TASK_QUEUE": settings.task_queue,
        "OMS_SIM_STEP_LATENCY": "PT0.3S",
        "OMS_SIM_DELIVERY_DELAY": "PT0.5S",
    }
    return subprocess.Popen(
        [sys.executable, "worker.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL
    )


async def test_killed_worker_mid_flight_loses_and_duplicates_nothing(
    http: httpx.AsyncClient,
    settings: Settings,
    sessions: SessionFactory,
    order_body: MakeOrderBody,
) -> None:
    sku = await stock(http, ORDERS * 2)
    workers = [start_worker(settings)]
    try:
        ids = await asyncio.gather(
            *(place(http, order_body(sku, quantity=2)) for _ in range(ORDERS))
        )
        await wait_for_status(http, ids[0], "picked", "packed", "shipped", *TERMINAL)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        at_kill = [(await http.get(f"/v1/orders/{i}")).json()["status"] for i in ids]
        assert set(at_kill) - set(TERMINAL), "every order finished before the kill: nothing tested"
        workers.append(start_worker(settings))
        orders = [await wait_for_status(http, i, *TERMINAL, within=120) for i in ids]
    finally:
        for process in workers:
            process.kill()
            process.wait()

    assert [order["status"] for order in orders] == ["completed"] * ORDERS
    async with sessions() as session:
        payments = await session.execute(
            select(SimPaymentRecord.kind, func.count())
            .where(SimPaymentRecord.order_id.in_(ids))
            .group_by(SimPaymentRecord.kind)
        )
        labels = await session.scalar(
            select(func.count()).where(SimShipmentRecord.order_id.in_(ids))
        )
        item = await session.get_one(InventoryRecord, sku)
        moved = await session.scalar(
            select(func.sum(MovementRecord.delta)).where(MovementRecord.sku == sku)
        )
    assert dict(payments.all()) == {"authorize": ORDERS, "capture": ORDERS}
    assert labels == ORDERS
    assert (item.on_hand, item.reserved, moved) == (0, 0, 0)  # every unit shipped exactly once
