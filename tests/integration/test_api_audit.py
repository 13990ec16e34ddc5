"""The audit trail and Idempotency-Key of support actions, through the API over the real worker.

Every action asked is one row, accepted or refused, whoever decided it (the workflow, its
validator, or the API for an order that is finished); a retry with the same key is the same
action: applied once, audited once. Orders wait on a payment review once reserved, as in
test_api_changes, so a test can act on a reserved order before letting it complete.
"""

import asyncio
from datetime import datetime
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import ACTORS
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status
from tests.harness.storefront import place
from tests.harness.support import (
    AGENT,
    NEW_ADDRESS,
    PRICE,
    adjusted_amounts,
    assert_sound,
    audit_of,
    cancel,
    change,
    hold,
    order_of,
    placed_and_held_for_review,
    release,
    release_to_completion,
    stock_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Orders wait on a payment review once reserved: a reserved order a test can change."""
    return settings.model_copy(update={"payment_review_above": 0})


def changed_rows(order: dict[str, object]) -> int:
    history = order["history"]
    assert isinstance(history, list)
    return sum(1 for h in history if (h["reason"] or "").startswith("changed:"))


async def test_the_same_change_sent_twice_with_one_key_is_applied_and_audited_once(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, key = await new_sku(10), str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    more = [{"sku": sku, "quantity": 3}]

    first = await change(api, order_id, key, lines=more)
    again = await change(api, order_id, key, lines=more)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert (again.json()["total"], changed_rows(again.json())) == (3 * PRICE, 1)
    assert (await stock_of(api, sku))["reserved"] == 3
    assert await adjusted_amounts(sessions, order_id) == [3 * PRICE]
    [row] = await audit_of(api, order_id)
    assert (row["action"], row["outcome"]) == ("change", "accepted")
    assert (await release_to_completion(api, order_id))["total"] == 3 * PRICE
    await assert_sound(sessions, order_id)


async def test_concurrent_requests_with_one_key_are_one_change(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, key = await new_sku(10), str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    new_sku_line = [{"sku": await new_sku(10), "quantity": 1, "unit_price": 100}]

    answers = await asyncio.gather(
        *(change(api, order_id, key, lines=new_sku_line) for _ in range(4))
    )

    assert [answer.status_code for answer in answers] == [200] * 4
    order = await order_of(api, order_id)
    assert (len(order["lines"]), order["total"], changed_rows(order)) == (2, 2 * PRICE + 100, 1)
    assert len(await audit_of(api, order_id)) == 1
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    await assert_sound(sessions, order_id)


async def test_a_change_retried_after_a_newer_one_does_not_undo_it(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, first_key = await new_sku(10), str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    await change(api, order_id, first_key, lines=[{"sku": sku, "quantity": 3}])
    await change(api, order_id, str(uuid4()), lines=[{"sku": sku, "quantity": 4}])

    retried = await change(api, order_id, first_key, lines=[{"sku": sku, "quantity": 3}])

    assert retried.status_code == 200, retried.text
    assert (retried.json()["lines"][0]["quantity"], retried.json()["total"]) == (4, 4 * PRICE)
    assert (await stock_of(api, sku))["reserved"] == 4
    assert [r["outcome"] for r in await audit_of(api, order_id)] == ["accepted", "accepted"]
    assert (await release_to_completion(api, order_id))["total"] == 4 * PRICE
    await assert_sound(sessions, order_id)


async def test_a_change_retried_once_the_order_completed_answers_as_it_did_first(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    key = str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(await new_sku(5)))
    first = await change(api, order_id, key, shipping_address=NEW_ADDRESS)
    await release_to_completion(api, order_id)  # the first answer was lost; the retry is late

    retried = await change(api, order_id, key, shipping_address=NEW_ADDRESS)

    assert first.status_code == 200, first.text
    assert retried.status_code == 200, retried.text  # applied: the same action, not a new one
    assert retried.json()["shipping_address"] == NEW_ADDRESS
    rows = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("change", "accepted"),
        ("release", "accepted"),
    ]
    await assert_sound(sessions, order_id)


async def test_refusals_retried_with_their_key_are_refused_again_and_audited_once(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, short_key, late_key = await new_sku(3), str(uuid4()), str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    too_many = [{"sku": sku, "quantity": 5}]

    short = [await change(api, order_id, short_key, lines=too_many) for _ in range(2)]
    assert (await release(api, order_id)).status_code == 200
    late = [await release(api, order_id, late_key) for _ in range(2)]  # not on hold any more

    no_stock = f"not enough stock of {sku}: the order and its reservation are unchanged"
    assert [(a.status_code, a.json()["detail"]) for a in short] == [(409, no_stock)] * 2
    assert [a.status_code for a in late] == [409, 409]
    rows = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"], r["detail"]) for r in rows] == [
        ("change", "refused", no_stock),  # decided in the workflow's handler
        ("release", "accepted", "released; back to reserved"),
        ("release", "refused", "order is not on hold"),  # decided by its validator
    ]
    await wait_for_status(api, order_id, "completed")
    await assert_sound(sessions, order_id)


async def test_the_audit_trail_lists_every_action_oldest_first(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(0)  # backordered: it waits while support works on it
    order_id = await place(api, order_body(sku, quantity=2))
    await wait_for_status(api, order_id, "backordered")

    answers = [
        await hold(api, order_id, "customer_request", note="customer calls back"),
        await change(api, order_id, shipping_address=NEW_ADDRESS),
        await release(api, order_id),
        await release(api, order_id),
        await change(api, order_id, lines=[{"sku": sku, "quantity": 1}]),
        await cancel(api, order_id),
    ]
    done = await wait_for_status(api, order_id, "cancelled")

    assert [answer.status_code for answer in answers] == [200, 200, 200, 409, 200, 202]
    rows = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("hold", "accepted"),
        ("change", "accepted"),
        ("release", "accepted"),
        ("release", "refused"),
        ("change", "accepted"),
        ("cancel", "accepted"),
    ]
    assert {r["requested_by"] for r in rows} == {ACTORS[Role.ADMIN]}
    assert {r["label"] for r in rows} == {AGENT}
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert times == sorted(times)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[1]["request"]["shipping_address"]["city"] == "Paris"
    assert (done["lines"][0]["quantity"], done["shipping_address"]) == (1, NEW_ADDRESS)
    await assert_sound(sessions, order_id)


async def test_an_action_on_a_finished_order_answers_409_and_is_audited(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    order_id = await placed_and_held_for_review(api, order_body(await new_sku(5)))
    await release_to_completion(api, order_id)

    late = [await change(api, order_id, shipping_address=NEW_ADDRESS), await hold(api, order_id)]

    finished = "order is already completed"
    assert [(a.status_code, a.json()) for a in late] == [(409, {"detail": finished})] * 2
    rows = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"], r["detail"]) for r in rows[-2:]] == [
        ("change", "refused", finished),
        ("hold", "refused", finished),
    ]
    assert (await order_of(api, order_id))["shipping_address"]["city"] == "Berlin"
    await assert_sound(sessions, order_id)


async def test_one_idempotency_key_used_on_two_orders_is_audited_on_each(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, key = await new_sku(10), f"ticket-{uuid4()}"  # e.g. a support ticket's number
    first_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    second_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))

    answers = [
        await change(api, order_id, key, lines=[{"sku": sku, "quantity": 3}])
        for order_id in (first_id, second_id)
    ]

    assert [(a.status_code, a.json()["total"]) for a in answers] == [(200, 3 * PRICE)] * 2
    first, second = await audit_of(api, first_id), await audit_of(api, second_id)
    for order_id in (first_id, second_id):
        await release_to_completion(api, order_id)
    await assert_sound(sessions, first_id, second_id)
    assert [(r["action"], r["outcome"]) for r in first] == [("change", "accepted")]
    assert [(r["action"], r["outcome"]) for r in second] == [("change", "accepted")]


async def test_one_key_for_a_different_change_answers_409_and_changes_nothing(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, key = await new_sku(10), str(uuid4())
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    first = await change(api, order_id, key, lines=[{"sku": sku, "quantity": 3}])

    other = await change(api, order_id, key, lines=[{"sku": sku, "quantity": 5}])

    assert first.status_code == 200
    assert other.status_code == 409
    assert other.json()["detail"] == "this Idempotency-Key was already used for a different request"
    assert (await order_of(api, order_id))["total"] == 3 * PRICE
    assert (await stock_of(api, sku))["reserved"] == 3
    assert [row["outcome"] for row in await audit_of(api, order_id)] == ["accepted"]
