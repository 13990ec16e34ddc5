"""Holding and releasing orders through the API over the real worker, and the payment review.

A hold stops an order before its next step; a release lets it continue where it stopped; a
cancellation still works while it is held. Each test runs the orders it places to their end
and checks the invariants on them.
"""

import asyncio
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import ACTORS
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status
from tests.harness.servers import serve_api
from tests.harness.storefront import place
from tests.harness.support import (
    AGENT,
    NEW_ADDRESS,
    assert_sound,
    audit_of,
    cancel,
    change,
    hold,
    order_of,
    release,
    release_to_completion,
    stock_of,
    worker_where,
)

pytestmark = pytest.mark.integration


async def test_a_held_order_waits_while_an_order_placed_after_it_completes(
    settings: Settings,
    api: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(10)
    slow = timedelta(milliseconds=200)  # each step takes a while: the hold lands before picking
    async with worker_where(temporal_env, sessions, settings, sim_step_latency=slow):
        held_id = await place(api, order_body(sku))
        held = await hold(api, held_id, "fraud_review", note="card used in two countries")
        sibling_id = await place(api, order_body(sku))
        await wait_for_status(api, sibling_id, "completed")
        still = await order_of(api, held_id)
        released = await release(api, held_id)
        done = await wait_for_status(api, held_id, "completed")

    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["status_reason"]) == ("on_hold", "fraud_review")
    on_hold = held.json()["history"][-1]
    assert (on_hold["status"], on_hold["actor"]) == ("on_hold", ACTORS[Role.ADMIN])
    assert on_hold["reason"] == "fraud_review: card used in two countries"
    assert (still["status"], still["status_reason"]) == ("on_hold", "fraud_review")
    assert [h["status"] for h in still["history"]][-1] == "on_hold"
    assert "picked" not in [h["status"] for h in still["history"]]
    assert released.status_code == 200, released.text
    assert released.json()["status"] != "on_hold"
    assert released.json()["status_reason"] is None
    by_caller = ("released: checked", ACTORS[Role.ADMIN])
    assert by_caller in [(h["reason"], h["actor"]) for h in done["history"]]
    audit = await audit_of(api, held_id)
    assert [(r["action"], r["outcome"]) for r in audit] == [
        ("hold", "accepted"),
        ("release", "accepted"),
    ]
    assert audit[0]["request"] == {
        "reason_code": "fraud_review",
        "note": "card used in two countries",
        "requested_by": ACTORS[Role.ADMIN],
        "label": AGENT,
    }
    await assert_sound(sessions, held_id, sibling_id)


async def test_releasing_an_order_that_is_not_on_hold_answers_409_and_is_audited(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))
    await wait_for_status(api, order_id, "backordered")

    answer = await release(api, order_id)

    assert (answer.status_code, answer.json()) == (409, {"detail": "order is not on hold"})
    [row] = await audit_of(api, order_id)
    assert (row["action"], row["outcome"]) == ("release", "refused")
    assert (row["detail"], row["requested_by"]) == ("order is not on hold", ACTORS[Role.ADMIN])
    assert row["label"] == AGENT
    assert (await order_of(api, order_id))["status"] == "backordered"
    assert (await cancel(api, order_id)).status_code == 202
    await wait_for_status(api, order_id, "cancelled")
    await assert_sound(sessions, order_id)


async def test_holding_a_shipped_order_answers_409(
    settings: Settings,
    api: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(5)
    in_transit = timedelta(seconds=3)
    async with worker_where(temporal_env, sessions, settings, sim_delivery_delay=in_transit):
        order_id = await place(api, order_body(sku))
        await wait_for_status(api, order_id, "shipped")
        answer = await hold(api, order_id)
        address = await change(api, order_id, shipping_address=NEW_ADDRESS)
        done = await wait_for_status(api, order_id, "completed")

    assert (answer.status_code, answer.json()) == (
        409,
        {"detail": "order is shipped: too late to hold"},
    )
    moved = "order is shipped: the address can only change until it ships"
    assert (address.status_code, address.json()) == (409, {"detail": moved})
    assert "on_hold" not in [h["status"] for h in done["history"]]
    assert done["shipping_address"]["city"] == "Berlin"
    audit = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"], r["detail"]) for r in audit] == [
        ("hold", "refused", "order is shipped: too late to hold"),
        ("change", "refused", moved),
    ]
    await assert_sound(sessions, order_id)


async def test_a_held_packed_order_can_be_cancelled_and_everything_is_undone(
    settings: Settings,
    api: httpx.AsyncClient,
    temporal_env: WorkflowEnvironment,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(5)
    slow = timedelta(milliseconds=500)
    async with worker_where(temporal_env, sessions, settings, sim_step_latency=slow):
        order_id = await place(api, order_body(sku))
        await wait_for_status(api, order_id, "picked")
        held = await hold(api, order_id)  # waits for packing to end, then stops the order
        cancelled = await cancel(api, order_id)
        done = await wait_for_status(api, order_id, "cancelled", "completed", "failed")

    assert held.status_code == 200, held.text
    assert held.json()["status"] == "on_hold"
    assert cancelled.status_code == 202, cancelled.text
    assert (done["status"], done["status_reason"]) == ("cancelled", "cancelled_by_support")
    assert [h["status"] for h in done["history"]][-3:] == ["packed", "on_hold", "cancelled"]
    stock = await stock_of(api, sku)
    assert (stock["on_hand"], stock["reserved"]) == (5, 0)
    await assert_sound(sessions, order_id)


async def test_a_held_backordered_order_takes_arriving_stock_only_once_released(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(0)
    order_id = await place(api, order_body(sku))
    await wait_for_status(api, order_id, "backordered")
    held = await hold(api, order_id, "address_verification")

    counted = await api.put(f"/v1/inventory/{sku}", json={"on_hand": 5})
    await asyncio.sleep(1.0)  # time enough to be woken and reserve, if it (wrongly) would
    still = await order_of(api, order_id)
    untouched = await stock_of(api, sku)
    released = await release(api, order_id)
    done = await wait_for_status(api, order_id, "completed", "cancelled", within=15)

    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["status_reason"]) == (
        "on_hold",
        "address_verification",
    )
    assert counted.status_code == 200, counted.text
    assert still["status"] == "on_hold"
    assert untouched["reserved"] == 0
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "backordered"  # where the hold stopped it
    assert done["status"] == "completed"
    await assert_sound(sessions, order_id)


# The payment review


async def test_an_order_above_the_review_limit_waits_on_hold_until_released(
    settings: Settings,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    admin_key: str,
) -> None:
    sku = await new_sku(10)
    async with serve_api(
        settings.model_copy(update={"payment_review_above": 3000}), admin_key
    ) as api:
        large_id = await place(api, order_body(sku, quantity=2))  # 39.98 EUR
        small_id = await place(api, order_body(sku, quantity=1))  # 19.99 EUR
        await wait_for_status(api, small_id, "completed")
        held = await wait_for_status(api, large_id, "on_hold")
        assert (await stock_of(api, sku))["reserved"] == 2
        done = await release_to_completion(api, large_id)

    assert held["status_reason"] == "payment_review"
    review = held["history"][-1]
    assert (review["status"], review["actor"]) == ("on_hold", "workflow")
    assert review["reason"] == "payment_review: total 39.98 EUR is above 30.00 EUR"
    assert [h["status"] for h in held["history"]][-2:] == ["reserved", "on_hold"]
    assert done["status"] == "completed"
    assert [h["status"] for h in done["history"]].count("on_hold") == 1  # reviewed once
    await assert_sound(sessions, large_id, small_id)


async def test_a_hold_that_was_on_when_the_review_came_does_not_skip_the_review(
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    admin_key: str,
) -> None:
    sku = await new_sku(5)
    reviewing = settings.model_copy(update={"payment_review_above": 0})
    slow = timedelta(seconds=1)
    async with (
        worker_where(temporal_env, sessions, settings, sim_step_latency=slow),
        serve_api(reviewing, admin_key) as api,
    ):
        order_id = await place(api, order_body(sku))
        for _ in range(250):  # once the stock is reserved, the payment takes a second
            if (await stock_of(api, sku))["reserved"]:
                break
            await asyncio.sleep(0.02)
        held = await hold(api, order_id)  # lands once the authorization is done
        released = await release(api, order_id)
        after = await wait_for_status(api, order_id, "on_hold", "completed", within=15)
        if after["status"] == "on_hold":
            await release_to_completion(api, order_id)

    assert held.status_code == 200, held.text
    assert released.status_code == 200, released.text
    history = [(h["status"], h["reason"]) for h in after["history"]]
    assert (after["status"], after["status_reason"]) == ("on_hold", "payment_review"), history
    await assert_sound(sessions, order_id)


# Requests that cannot apply


async def test_an_unknown_reason_code_answers_422(api: httpx.AsyncClient) -> None:
    body = {"reason_code": "bored", "requested_by": AGENT}

    answer = await api.post(f"/v1/orders/{uuid4()}/hold", json=body)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason_code"]


async def test_every_support_action_on_an_unknown_order_answers_404(
    api: httpx.AsyncClient,
) -> None:
    missing = str(uuid4())

    answers = [
        await change(api, missing, shipping_address=None, lines=[{"sku": "S", "quantity": 1}]),
        await hold(api, missing),
        await release(api, missing),
        await cancel(api, missing),
        await api.get(f"/v1/orders/{missing}/audit"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert all(missing in answer.json()["detail"] for answer in answers)
