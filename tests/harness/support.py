"""Calling the support API in tests: one helper per action, the reads a test checks, a worker
in a changed world. Shared by the integration tests of support actions (test_api_*)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.invariants import check
from db.models import SimPaymentRecord
from db.session import SessionFactory
from settings import Settings
from tests.harness.orders import OrderBody, wait_for_status
from tests.harness.storefront import place
from worker import build_worker

AGENT = "agent-7"
PRICE = 1999  # every line of `order_body`
NEW_ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "2 Rue de Rivoli",
    "line2": None,
    "city": "Paris",
    "postal_code": "75001",
    "country": "FR",
}


def headers(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Idempotency-Key": key}


async def change(
    api: httpx.AsyncClient, order_id: str, key: str | None = None, **fields: Any
) -> httpx.Response:
    body = {"requested_by": AGENT, **fields}
    return await api.post(f"/v1/orders/{order_id}/changes", json=body, headers=headers(key))


async def hold(
    api: httpx.AsyncClient, order_id: str, reason_code: str = "customer_request", **fields: Any
) -> httpx.Response:
    body = {"reason_code": reason_code, "requested_by": AGENT, **fields}
    return await api.post(f"/v1/orders/{order_id}/hold", json=body)


async def release(api: httpx.AsyncClient, order_id: str, key: str | None = None) -> httpx.Response:
    body = {"requested_by": AGENT, "note": "checked"}
    return await api.post(f"/v1/orders/{order_id}/release", json=body, headers=headers(key))


async def cancel(api: httpx.AsyncClient, order_id: str) -> httpx.Response:
    body = {"reason": "customer changed their mind", "requested_by": AGENT}
    return await api.post(f"/v1/orders/{order_id}/cancel", json=body)


async def stock_of(api: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    answer = await api.get(f"/v1/inventory/{sku}")
    assert answer.status_code == 200, answer.text
    stock: dict[str, Any] = answer.json()
    return stock


async def audit_of(api: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    answer = await api.get(f"/v1/orders/{order_id}/audit")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


async def order_of(api: httpx.AsyncClient, order_id: str) -> OrderBody:
    answer = await api.get(f"/v1/orders/{order_id}")
    assert answer.status_code == 200, answer.text
    order: OrderBody = answer.json()
    return order


async def release_to_completion(api: httpx.AsyncClient, order_id: str) -> OrderBody:
    released = await release(api, order_id)
    assert released.status_code == 200, released.text
    return await wait_for_status(api, order_id, "completed", "cancelled", "failed")


async def assert_sound(sessions: SessionFactory, *order_ids: str) -> None:
    violations = await check(sessions, list(order_ids), require_terminal=True)
    assert not violations, [str(v) for v in violations]


@asynccontextmanager
async def worker_where(
    temporal_env: WorkflowEnvironment, sessions: SessionFactory, settings: Settings, **world: Any
) -> AsyncIterator[Worker]:
    """The real worker on this test's queue, in a simulated world changed by `world`."""
    changed = settings.model_copy(update=world)
    async with build_worker(temporal_env.client, sessions, changed) as running:
        yield running


async def placed_and_held_for_review(api: httpx.AsyncClient, body: OrderBody) -> str:
    order_id = await place(api, body)
    order = await wait_for_status(api, order_id, "on_hold")
    assert order["status_reason"] == "payment_review", order
    return order_id


async def adjusted_amounts(sessions: SessionFactory, order_id: str) -> list[int]:
    """The amounts the order's authorization was adjusted to at the gateway, oldest first."""
    async with sessions() as session:
        query = (
            select(SimPaymentRecord.amount)
            .where(SimPaymentRecord.order_id == order_id, SimPaymentRecord.kind == "adjust")
            .order_by(SimPaymentRecord.created_at)
        )
        return list(await session.scalars(query))
