"""Orders as the tests see them through the API: their JSON, and waiting for a status."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

OrderBody = dict[str, Any]  # JSON as the storefront sends it
MakeOrderBody = Callable[..., OrderBody]  # the `order_body` fixture
MakeSku = Callable[[int], Awaitable[str]]  # the `new_sku` fixture
TERMINAL = ("completed", "cancelled", "failed")
POLL = 0.05  # seconds between two reads of an order


async def wait_for_status(
    api: httpx.AsyncClient, order_id: str, *statuses: str, within: float = 30.0
) -> OrderBody:
    """Poll GET /v1/orders/{id} until the order is in one of `statuses`; fail after `within` s."""
    order: OrderBody = {}
    for _ in range(int(within / POLL)):
        order = (await api.get(f"/v1/orders/{order_id}")).json()
        if order["status"] in statuses:
            return order
        await asyncio.sleep(POLL)
    pytest.fail(
        f"order {order_id} is {order.get('status')}, not one of {statuses}, after {within}s"
    )


async def wait_for_refund(
    api: httpx.AsyncClient, refund_id: str, within: float = 30.0
) -> OrderBody:
    """Poll GET /v1/refunds/{id} until the refund is no longer `pending`; fail after `within` s."""
    refund: OrderBody = {}
    for _ in range(int(within / POLL)):
        refund = (await api.get(f"/v1/refunds/{refund_id}")).json()
        if refund["status"] != "pending":
            return refund
        await asyncio.sleep(POLL)
    pytest.fail(f"refund {refund_id} is still {refund.get('status')} after {within}s")
