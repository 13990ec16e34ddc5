"""Whole orders over real HTTP, with the real worker and the simulated outside world."""

from datetime import timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import ACTORS
from tests.harness.orders import TERMINAL, MakeOrderBody, wait_for_status
from tests.harness.storefront import place, stock
from worker import build_worker

pytestmark = pytest.mark.e2e

HAPPY_PATH = ["pending", "reserved", "picked", "packed", "shipped", "delivered", "completed"]


async def test_an_order_goes_from_placement_to_completion(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    sku = await stock(http, 10)

    order_id = await place(http, order_body(sku, quantity=3))
    order = await wait_for_status(http, order_id, *TERMINAL)

    assert order["status"] == "completed"
    assert [entry["status"] for entry in order["history"]] == HAPPY_PATH
    [shipment] = order["shipments"]
    assert shipment["status"] == "delivered"
    assert shipment["carrier"]
    assert shipment["tracking_number"]
    inventory = (await http.get(f"/v1/inventory/{sku}")).json()
    assert inventory == {"sku": sku, "on_hand": 7, "reserved": 0, "available": 7, "damaged": 0}


async def test_an_order_cancelled_before_shipping_is_cancelled_and_its_stock_released(
    http: httpx.AsyncClient,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    sessions: SessionFactory,
    order_body: MakeOrderBody,
) -> None:
    slow = settings.model_copy(update={"sim_step_latency": timedelta(seconds=1)})
    sku = await stock(http, 5)
    async with build_worker(temporal_env.client, sessions, slow):  # a second per step
        order_id = await place(http, order_body(sku, quantity=2))
        await wait_for_status(http, order_id, "reserved", "picked", "packed")
        assert (await http.get(f"/v1/inventory/{sku}")).json()["reserved"] == 2

        cancel = {"reason": "customer changed their mind", "requested_by": "agent-7"}
        accepted = await http.post(f"/v1/orders/{order_id}/cancel", json=cancel)
        order = await wait_for_status(http, order_id, *TERMINAL)

    assert accepted.status_code == 202
    assert accepted.json()["id"] == order_id
    assert order["status"] == "cancelled"
    assert "shipped" not in [entry["status"] for entry in order["history"]]
    assert order["history"][-1]["actor"] == ACTORS[Role.ADMIN]  # the key, not the body's label
    inventory = (await http.get(f"/v1/inventory/{sku}")).json()
    assert inventory == {"sku": sku, "on_hand": 5, "reserved": 0, "available": 5, "damaged": 0}


async def test_a_backordered_order_proceeds_once_stock_arrives(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    sku = await stock(http, 0)
    order_id = await place(http, order_body(sku, quantity=2))
    waiting = await wait_for_status(http, order_id, "backordered", *TERMINAL)
    assert waiting["status"] == "backordered"

    counted = await http.put(f"/v1/inventory/{sku}", json={"on_hand": 4})
    order = await wait_for_status(http, order_id, *TERMINAL)

    assert counted.json()["available"] == 4
    assert order["status"] == "completed"
    statuses = [entry["status"] for entry in order["history"]]
    assert statuses == ["pending", "backordered", *HAPPY_PATH[1:]]
    assert (await http.get(f"/v1/inventory/{sku}")).json()["on_hand"] == 2
