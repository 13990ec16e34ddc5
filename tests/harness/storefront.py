"""What a storefront does: count stock and place orders, over HTTP (e2e, console, contention)."""

from uuid import uuid4

import httpx

from tests.harness.orders import TERMINAL, OrderBody, wait_for_status


async def stock(http: httpx.AsyncClient, on_hand: int) -> str:
    """A new SKU with `on_hand` units, counted through the API."""
    sku = f"SKU-E2E-{uuid4().hex[:10].upper()}"
    counted = await http.put(f"/v1/inventory/{sku}", json={"on_hand": on_hand})
    assert counted.status_code == 200
    return sku


async def place(http: httpx.AsyncClient, body: dict[str, object]) -> str:
    """POST the order with an Idempotency-Key of its own; its id."""
    placed = await http.post("/v1/orders", json=body, headers={"Idempotency-Key": str(uuid4())})
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["id"]
    return order_id


async def completed_order(http: httpx.AsyncClient, body: dict[str, object]) -> OrderBody:
    """Place the order and wait until it is `completed` (shipped, captured, invoiced)."""
    order = await wait_for_status(http, await place(http, body), *TERMINAL)
    assert order["status"] == "completed", order
    return order
