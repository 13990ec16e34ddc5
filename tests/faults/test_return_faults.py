"""A fault during returns: the worker killed while the returned parcels' refunds are at the
gateway and the exchanges' replacement orders are on their way, in a module of its own so
`make test`'s two processes can each take one of the fault modules."""

from collections import Counter
from collections.abc import Sequence
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from db.invariants import check
from db.models import MovementRecord, OrderRecord, RefundRecord, SimPaymentRecord
from db.returns import RESTOCK
from tests.harness.returns import Json
from tests.harness.shop import Shop, lines_of

pytestmark = pytest.mark.faults

RECOVERY = 120.0  # a killed activity is retried after its start_to_close timeout (30 s)
RETURNS = 2  # of each resolution
SLOW_WORLD = {"OMS_SIM_STEP_LATENCY": "PT2S"}  # each gateway, warehouse, carrier call: 2 s


async def test_a_worker_killed_mid_return_restocks_refunds_and_replaces_each_once(
    shop: Shop,
) -> None:
    """Every return is received, then the worker dies while its refund is at the slow gateway
    (or its exchange order is in the slow warehouse); a new worker finishes each return once:
    one restock movement per returned SKU, one refund at the gateway, one replacement order."""
    first = shop.stack.start_worker()
    ids = await shop.place(2 * RETURNS)
    await shop.all_finished(ids, within=60)
    returns = [
        await _awaiting_receipt(shop, order_id, "refund" if n < RETURNS else "exchange")
        for n, order_id in enumerate(ids)
    ]
    shop.stack.kill_worker(first)

    slow = shop.stack.start_worker(SLOW_WORLD)
    for n, ret in enumerate(returns):
        await _receive_all(shop, ret, lines_of(n, shop.skus))
    await shop.until(lambda: _resolved(shop, ids), "every return resolved", within=30)
    shop.stack.kill_worker(slow)  # refunds at the gateway, replacements being picked
    assert await _unfinished(shop, ids), "every refund and replacement ended before the kill"
    shop.stack.start_worker()

    await shop.until(lambda: _returns_ended(shop, returns), "every return completed", RECOVERY)
    replacements = await _replacements(shop, returns)
    await shop.all_finished(replacements, within=RECOVERY)
    assert await _restocks(shop, returns) == {
        (ret["id"], sku): units
        for n, ret in enumerate(returns)
        for sku, units in lines_of(n, shop.skus).items()
    }
    refunds = await _refunds(shop, ids[:RETURNS])
    assert len(refunds) == RETURNS  # one succeeded refund per refund return
    assert await _gateway_refunds(shop, ids[:RETURNS]) == {f"{r}:refund": 1 for r in refunds}
    assert len(set(replacements)) == RETURNS
    violations = await check(shop.sessions, require_terminal=True)  # this stack's whole DB
    assert violations == [], "\n".join(map(str, violations))
    assert shop.stack.dead_workers() == [], shop.stack.log_tail()


async def _awaiting_receipt(shop: Shop, order_id: str, resolution: str) -> Json:
    order = (await shop.api.get(f"/v1/orders/{order_id}")).json()
    lines = [
        {"sku": line["sku"], "quantity": line["quantity"], "reason": "changed_mind"}
        for line in order["lines"]
    ]
    body: Json = {"lines": lines, "resolution": resolution}
    if resolution == "exchange":
        body["exchange_lines"] = [{"sku": order["lines"][0]["sku"], "quantity": 1}]
    asked = await shop.api.post(
        f"/v1/orders/{order_id}/returns", json=body, headers={"Idempotency-Key": str(uuid4())}
    )
    assert asked.status_code == 202, asked.text
    return_id = asked.json()["id"]

    async def labelled() -> bool:
        found = (await shop.api.get(f"/v1/returns/{return_id}")).json()
        return bool(found["status"] == "awaiting_receipt")

    await shop.until(labelled, f"return {return_id} labelled", within=30)
    answer: Json = (await shop.api.get(f"/v1/returns/{return_id}")).json()
    return answer


async def _receive_all(shop: Shop, ret: Json, units: dict[str, int]) -> None:
    body = {
        "lines": [
            {"sku": sku, "quantity": quantity, "condition": "resellable"}
            for sku, quantity in units.items()
        ]
    }
    key = {"Idempotency-Key": str(uuid4())}
    for _ in range(6):  # a new worker picks up the workflow after the old one's sticky timeout
        scanned = await shop.api.post(f"/v1/returns/{ret['id']}/receive", json=body, headers=key)
        if scanned.status_code != 503:  # "retry with the same key": the same receipt, once
            break
    assert scanned.status_code == 200, scanned.text


async def _resolved(shop: Shop, order_ids: Sequence[str]) -> bool:
    """Each refund return has its refund claimed, each exchange its replacement placed."""
    async with shop.sessions() as session:
        claimed = await session.scalar(
            select(func.count())
            .select_from(RefundRecord)
            .where(RefundRecord.order_id.in_(order_ids[:RETURNS]))
        )
        placed = await session.scalar(
            select(func.count())
            .select_from(OrderRecord)
            .where(OrderRecord.exchange_for.in_(order_ids[RETURNS:]))
        )
    return claimed == RETURNS and placed == RETURNS


async def _unfinished(shop: Shop, order_ids: Sequence[str]) -> bool:
    """A refund still pending or a replacement order still moving: the kill hit them."""
    async with shop.sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(RefundRecord)
            .where(RefundRecord.order_id.in_(order_ids), RefundRecord.status == "pending")
        )
        moving = await session.scalar(
            select(func.count())
            .select_from(OrderRecord)
            .where(
                OrderRecord.exchange_for.in_(order_ids),
                OrderRecord.status.not_in(["completed", "cancelled", "failed"]),
            )
        )
    return bool(pending or moving)


async def _returns_ended(shop: Shop, returns: Sequence[Json]) -> bool:
    statuses = [(await shop.api.get(f"/v1/returns/{r['id']}")).json()["status"] for r in returns]
    return all(status == "completed" for status in statuses)


async def _replacements(shop: Shop, returns: Sequence[Json]) -> list[str]:
    found = [(await shop.api.get(f"/v1/returns/{r['id']}")).json() for r in returns]
    return [r["exchange_order_id"] for r in found if r["exchange_order_id"] is not None]


async def _restocks(shop: Shop, returns: Sequence[Json]) -> dict[tuple[str, str], int]:
    async with shop.sessions() as session:
        rows = await session.execute(
            select(MovementRecord.return_id, MovementRecord.sku, func.sum(MovementRecord.delta))
            .where(
                MovementRecord.return_id.in_([r["id"] for r in returns]),
                MovementRecord.reason == RESTOCK,
            )
            .group_by(MovementRecord.return_id, MovementRecord.sku)
        )
        return {(str(return_id), sku): int(units) for return_id, sku, units in rows.all()}


async def _refunds(shop: Shop, order_ids: Sequence[str]) -> list[str]:
    """The orders' succeeded refunds (any pending or failed one would not be listed)."""
    async with shop.sessions() as session:
        rows = await session.scalars(
            select(RefundRecord.id).where(
                RefundRecord.order_id.in_(order_ids), RefundRecord.status == "succeeded"
            )
        )
        return list(rows)


async def _gateway_refunds(shop: Shop, order_ids: Sequence[str]) -> Counter[str]:
    async with shop.sessions() as session:
        keys = await session.scalars(
            select(SimPaymentRecord.idempotency_key).where(
                SimPaymentRecord.order_id.in_(order_ids), SimPaymentRecord.kind == "refund"
            )
        )
        return Counter(keys)
