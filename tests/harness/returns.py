"""What a storefront and the warehouse do with returns over HTTP: ask, wait, receive."""

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest

Json = dict[str, Any]
POLL = 0.1
RETURN_ENDED = ("completed", "expired", "declined", "cancelled")


async def request_return(http: httpx.AsyncClient, order_id: str, **body: Any) -> Json:
    """POST a return with an Idempotency-Key of its own; the 202's body."""
    asked = await http.post(
        f"/v1/orders/{order_id}/returns", json=body, headers={"Idempotency-Key": str(uuid4())}
    )
    assert asked.status_code == 202, asked.text
    answer: Json = asked.json()
    return answer


async def wait_for_return(
    http: httpx.AsyncClient, return_id: str, *statuses: str, within: float = 30.0
) -> Json:
    """Poll GET /v1/returns/{id} until it is in one of `statuses`; fail after `within` s."""
    found: Json = {}
    for _ in range(int(within / POLL)):
        found = (await http.get(f"/v1/returns/{return_id}")).json()
        if found.get("status") in statuses:
            return found
        await asyncio.sleep(POLL)
    pytest.fail(f"return {return_id} is {found.get('status')}, not one of {statuses}")


async def receive(http: httpx.AsyncClient, return_id: str, *lines: tuple[str, int, str]) -> Json:
    """The warehouse scans (part of) the parcel: (sku, quantity, condition) per line."""
    body = {"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines]}
    scanned = await http.post(
        f"/v1/returns/{return_id}/receive", json=body, headers={"Idempotency-Key": str(uuid4())}
    )
    assert scanned.status_code == 200, scanned.text
    answer: Json = scanned.json()
    return answer


async def labelled(http: httpx.AsyncClient, order_id: str, **body: Any) -> Json:
    """A return asked for and approved, its label issued: ready for the parcel."""
    asked = await request_return(http, order_id, **body)
    return await wait_for_return(http, asked["id"], "awaiting_receipt")
