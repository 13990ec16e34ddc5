"""The storefront's side of a fault test: stock, orders over HTTP, and the verdict afterwards."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import PendingActivityState

from db.invariants import check
from db.models import (
    DocumentRecord,
    OrderRecord,
    PaymentRecord,
    RefundRecord,
    SimPaymentRecord,
)
from db.session import SessionFactory
from temporal_client import connect_temporal
from tests.factories import make_order_body
from tests.harness.orders import TERMINAL
from tests.harness.stack import Processes
from workflows.contracts import ActivityName
from workflows.money_contracts import refund_workflow_id

log = logging.getLogger(__name__)
SKUS = 4
ON_HAND = 1000
MOVING = frozenset({"picked", "packed", "shipped", "delivered", "completed"})
POLL = 0.2  # seconds between two looks at the orders

Body = dict[str, Any]


def lines_of(n: int, skus: Sequence[str]) -> dict[str, int]:
    """Order `n` buys 1 or 2 units of one SKU and 1 of the next: several SKUs, shared."""
    return {skus[n % len(skus)]: 1 + n % 2, skus[(n + 1) % len(skus)]: 1}


def order_body(n: int, skus: Sequence[str]) -> Body:
    """The POST /v1/orders body of order `n`."""
    return make_order_body(list(lines_of(n, skus).items()), customer_id=f"cust-{n}")


@dataclass
class Shop:
    """The API (in this process), a read-only look at the database, and what was ordered."""

    api: httpx.AsyncClient
    sessions: SessionFactory
    stack: Processes
    skus: list[str] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)
    ordered: Counter[str] = field(default_factory=Counter)  # units per SKU

    async def stock_up(self) -> None:
        """SKUS new SKUs with ON_HAND units each, counted through the API."""
        for _ in range(SKUS):
            sku = f"SKU-FAULT-{uuid4().hex[:8].upper()}"
            counted = await self.api.put(f"/v1/inventory/{sku}", json={"on_hand": ON_HAND})
            assert counted.status_code == 200, counted.text
            self.skus.append(sku)

    async def place(self, count: int) -> list[str]:
        """Place `count` orders at once, each with its own Idempotency-Key; their ids."""
        first = len(self.placed)
        replies = await asyncio.gather(*(self._post(n) for n in range(first, first + count)))
        refused = [f"{r.status_code} {r.text}" for r in replies if r.status_code != 202]
        assert not refused, f"{len(refused)} of {count} orders refused, e.g. {refused[0]}"
        ids = [r.json()["id"] for r in replies]
        self.placed += ids
        for n in range(first, first + count):
            self.ordered.update(lines_of(n, self.skus))
        return ids

    async def _post(self, n: int) -> httpx.Response:
        key = {"Idempotency-Key": str(uuid4())}
        return await self.api.post("/v1/orders", json=order_body(n, self.skus), headers=key)

    async def statuses(self, ids: Sequence[str]) -> Counter[str]:
        """How many of `ids` are in each status, read straight from the database."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(OrderRecord.status, func.count())
                .where(OrderRecord.id.in_(ids))
                .group_by(OrderRecord.status)
            )
            return Counter(dict(rows.all()))

    async def gateway_calls(self, ids: Sequence[str]) -> Counter[str]:
        """How many payments of each kind the simulated gateway booked for `ids`."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(SimPaymentRecord.kind, func.count())
                .where(SimPaymentRecord.order_id.in_(ids))
                .group_by(SimPaymentRecord.kind)
            )
            return Counter(dict(rows.all()))

    async def wait_until(
        self, ids: Sequence[str], done: Callable[[Counter[str]], bool], what: str, within: float
    ) -> Counter[str]:
        """Poll the statuses of `ids` until `done(them)`; fail saying `what` after `within` s."""
        deadline = time.monotonic() + within
        while not done(seen := await self.statuses(ids)):
            if time.monotonic() > deadline or self.stack.dead_workers():
                pytest.fail(
                    f"{what}: not after {within:.0f}s; statuses {dict(seen)}; "
                    f"dead workers' exit codes {self.stack.dead_workers()}\n{self.stack.log_tail()}"
                )
            await asyncio.sleep(POLL)
        return seen

    async def in_flight(self, ids: Sequence[str]) -> Counter[str]:
        """Wait until orders move (one reached `picked`); the statuses then, some not finished."""
        seen = await self.wait_until(
            ids, lambda s: bool(MOVING & s.keys()), "orders start moving", within=60
        )
        assert sum(n for status, n in seen.items() if status not in TERMINAL), (
            f"every order finished before the fault: nothing tested ({dict(seen)})"
        )
        log.info("at the fault: %s", dict(seen))
        return seen

    async def all_finished(self, ids: Sequence[str], within: float) -> None:
        started = time.monotonic()
        await self.wait_until(ids, lambda s: _all_terminal(s, len(ids)), "all terminal", within)
        log.info("%d orders terminal after %.1fs more", len(ids), time.monotonic() - started)

    async def assert_all_completed_and_sound(self, ids: Sequence[str]) -> None:
        """All completed (says the API), stock booked out once, every invariant holding."""
        replies = [await self.api.get(f"/v1/orders/{i}") for i in ids]
        statuses = Counter(r.json()["status"] for r in replies)
        assert statuses == {"completed": len(ids)}, f"statuses through the API: {dict(statuses)}"
        for sku in self.skus:
            stock = (await self.api.get(f"/v1/inventory/{sku}")).json()
            assert (stock["on_hand"], stock["reserved"]) == (ON_HAND - self.ordered[sku], 0), stock
        violations = await check(self.sessions, require_terminal=True)  # this stack's whole DB
        assert violations == [], "\n".join(map(str, violations))
        assert self.stack.dead_workers() == [], self.stack.log_tail()

    # Refunds: claimed through the API, run by the workers, counted in the books

    async def refund(self, order_ids: Sequence[str], amount: int) -> list[str]:
        """Claim a card refund of `amount` for each order through the API; the refunds' ids."""
        body = {"amount": amount, "reason": "damaged", "method": "original_payment"}
        replies = [await self.api.post(f"/v1/orders/{i}/refunds", json=body) for i in order_ids]
        refused = [f"{r.status_code} {r.text}" for r in replies if r.status_code != 202]
        assert not refused, f"{len(refused)} refunds refused, e.g. {refused[0]}"
        return [r.json()["id"] for r in replies]

    @asynccontextmanager
    async def payments_locked(self, order_ids: Sequence[str]) -> AsyncIterator[None]:
        """Hold the orders' payment rows locked, as a slow transaction would: a refund's
        activity then waits after the gateway refunded, before the OMS has booked it."""
        async with self.sessions() as session, session.begin():
            query = select(PaymentRecord.order_id).where(PaymentRecord.order_id.in_(order_ids))
            await session.execute(query.with_for_update())
            yield

    async def gateway_refunds(self, order_ids: Sequence[str]) -> Counter[str]:
        """The refunds the simulated gateway made for `order_ids`, by idempotency key."""
        async with self.sessions() as session:
            keys = await session.scalars(
                select(SimPaymentRecord.idempotency_key).where(
                    SimPaymentRecord.order_id.in_(order_ids), SimPaymentRecord.kind == "refund"
                )
            )
            return Counter(keys)

    async def credit_notes(self, order_ids: Sequence[str]) -> Counter[str | None]:
        """The credit notes issued for `order_ids`, by the refund each is for."""
        async with self.sessions() as session:
            refunds = await session.scalars(
                select(DocumentRecord.refund_id).where(
                    DocumentRecord.order_id.in_(order_ids), DocumentRecord.kind == "credit_note"
                )
            )
            return Counter(refunds)

    async def refund_statuses(self, refund_ids: Sequence[str]) -> Counter[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(RefundRecord.status).where(RefundRecord.id.in_(refund_ids))
            )
            return Counter(rows)

    async def refunds_at_the_gateway(self, refund_ids: Sequence[str], within: float) -> None:
        """Wait until a worker is calling the gateway (`refund_payment` started) for each."""
        client = await connect_temporal(self.stack.settings)

        async def calling(refund_id: str) -> bool:
            handle = client.get_workflow_handle(refund_workflow_id(refund_id))
            pending = (await handle.describe()).raw_description.pending_activities
            return any(
                a.activity_type.name == ActivityName.REFUND_PAYMENT
                and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                for a in pending
            )

        async def all_calling() -> bool:
            return all([await calling(refund_id) for refund_id in refund_ids])

        await self.until(all_calling, "refunds at the gateway", within)

    async def refunds_finished(self, refund_ids: Sequence[str], within: float) -> Counter[str]:
        async def finished() -> bool:
            return "pending" not in await self.refund_statuses(refund_ids)

        started = time.monotonic()
        await self.until(finished, "every refund succeeded or failed", within)
        log.info("%d refunds finished after %.1fs", len(refund_ids), time.monotonic() - started)
        return await self.refund_statuses(refund_ids)

    async def until(self, done: Callable[[], Awaitable[bool]], what: str, within: float) -> None:
        """Poll `done()` until true; fail saying `what` (and the workers' logs) after `within`."""
        deadline = time.monotonic() + within
        while not await done():
            if time.monotonic() > deadline or self.stack.dead_workers():
                pytest.fail(
                    f"{what}: not after {within:.0f}s; dead workers' exit codes "
                    f"{self.stack.dead_workers()}\n{self.stack.log_tail()}"
                )
            await asyncio.sleep(POLL)


def _all_terminal(statuses: Counter[str], count: int) -> bool:
    return statuses.keys() <= set(TERMINAL) and statuses.total() == count
