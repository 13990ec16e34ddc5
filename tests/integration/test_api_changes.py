"""Changing an order through the API over the real worker: lines and address, stock and payment.

Every order here is placed with `payment_review_above=0`, so it waits `on_hold` for a payment
review once its stock is reserved and its payment authorized: a reserved order that stays put
while a test changes it. Releasing it lets it run to `completed`, and then the invariants hold.
"""

from datetime import timedelta
from typing import Any
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
from tests.harness.storefront import place
from tests.harness.support import (
    AGENT,
    NEW_ADDRESS,
    PRICE,
    adjusted_amounts,
    assert_sound,
    audit_of,
    change,
    hold,
    order_of,
    placed_and_held_for_review,
    release,
    release_to_completion,
    stock_of,
    worker_where,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Orders wait on a payment review once reserved: a reserved order a test can change."""
    return settings.model_copy(update={"payment_review_above": 0})


# Lines on a reserved order


async def test_more_units_are_reserved_and_the_total_and_payment_follow(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(10)
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))
    assert (await stock_of(api, sku))["reserved"] == 2

    answer = await change(
        api, order_id, lines=[{"sku": sku, "quantity": 3}], reason="one more for a friend"
    )

    assert answer.status_code == 200, answer.text
    order = answer.json()
    assert order["lines"] == [
        {"sku": sku, "quantity": 3, "unit_price": PRICE, "tax_rate": None, "returned": 0}
    ]
    assert (order["total"], order["status"]) == (3 * PRICE, "on_hold")
    changed = order["history"][-1]
    assert (changed["status"], changed["actor"]) == ("on_hold", ACTORS[Role.ADMIN])
    assert changed["reason"] == f"changed: {sku} 2 → 3, total 59.97 EUR: one more for a friend"
    assert (await stock_of(api, sku))["reserved"] == 3
    assert await adjusted_amounts(sessions, order_id) == [3 * PRICE]
    [row] = await audit_of(api, order_id)
    assert (row["action"], row["outcome"], row["requested_by"]) == (
        "change",
        "accepted",
        ACTORS[Role.ADMIN],
    )
    assert row["label"] == AGENT
    assert row["detail"] == f"{sku} 2 → 3, total 59.97 EUR"
    assert row["request"]["lines"][0]["quantity"] == 3
    done = await release_to_completion(api, order_id)
    assert (done["status"], done["total"]) == ("completed", 3 * PRICE)
    assert (await stock_of(api, sku))["on_hand"] == 7
    await assert_sound(sessions, order_id)


async def test_fewer_units_release_stock_at_once(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(10)
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=3))

    answer = await change(api, order_id, lines=[{"sku": sku, "quantity": 1}])

    assert answer.status_code == 200, answer.text
    assert (answer.json()["total"], answer.json()["lines"][0]["quantity"]) == (PRICE, 1)
    assert (await stock_of(api, sku))["reserved"] == 1
    assert await adjusted_amounts(sessions, order_id) == [PRICE]  # a partial void
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    assert (await stock_of(api, sku))["on_hand"] == 9
    await assert_sound(sessions, order_id)


async def test_more_units_than_in_stock_answer_409_and_change_nothing(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    plenty, short = await new_sku(10), await new_sku(3)
    order_id = await placed_and_held_for_review(api, order_body(plenty, short, quantity=2))
    before = [await stock_of(api, plenty), await stock_of(api, short)]
    lines = [{"sku": plenty, "quantity": 1}, {"sku": short, "quantity": 4}]

    answer = await change(api, order_id, lines=lines)

    reason = f"not enough stock of {short}: the order and its reservation are unchanged"
    assert (answer.status_code, answer.json()) == (409, {"detail": reason})
    assert [await stock_of(api, plenty), await stock_of(api, short)] == before
    order = await order_of(api, order_id)
    assert [line["quantity"] for line in order["lines"]] == [2, 2]
    assert (order["total"], order["status"]) == (4 * PRICE, "on_hold")
    assert not any("changed" in (h["reason"] or "") for h in order["history"])
    assert await adjusted_amounts(sessions, order_id) == []
    [row] = await audit_of(api, order_id)  # the workflow's row; the API's write was a no-op
    assert (row["action"], row["outcome"], row["detail"]) == ("change", "refused", reason)
    assert (await release_to_completion(api, order_id))["total"] == 4 * PRICE
    await assert_sound(sessions, order_id)


async def test_a_declined_payment_for_a_larger_total_answers_409_and_changes_nothing(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku = await new_sku(10)
    body = order_body(sku, quantity=2, payment={"token": "tok_limit_5000"})  # 39.98 fits
    order_id = await placed_and_held_for_review(api, body)
    before = await stock_of(api, sku)

    answer = await change(api, order_id, lines=[{"sku": sku, "quantity": 3}])  # 59.97 does not

    reason = "the payment for the new total 59.97 EUR was declined: the order is unchanged"
    assert (answer.status_code, answer.json()) == (409, {"detail": reason})
    assert await stock_of(api, sku) == before  # the extra unit was given back
    order = await order_of(api, order_id)
    assert (order["lines"][0]["quantity"], order["total"]) == (2, 2 * PRICE)
    [row] = await audit_of(api, order_id)
    assert (row["outcome"], row["detail"]) == ("refused", reason)
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    await assert_sound(sessions, order_id)  # captured the old total: 39.98


async def test_a_new_sku_is_added_at_its_unit_price_and_reserved(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    sku, added = await new_sku(10), await new_sku(10)
    order_id = await placed_and_held_for_review(api, order_body(sku, quantity=2))

    answer = await change(api, order_id, lines=[{"sku": added, "quantity": 1, "unit_price": 500}])

    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"] == [
        {"sku": sku, "quantity": 2, "unit_price": PRICE, "tax_rate": None, "returned": 0},
        {"sku": added, "quantity": 1, "unit_price": 500, "tax_rate": None, "returned": 0},
    ]
    assert answer.json()["total"] == 2 * PRICE + 500
    assert [(await stock_of(api, s))["reserved"] for s in (sku, added)] == [2, 1]
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    assert (await stock_of(api, added))["on_hand"] == 9
    await assert_sound(sessions, order_id)


async def test_quantity_0_removes_a_line_and_releases_its_stock(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    kept, removed = await new_sku(10), await new_sku(10)
    order_id = await placed_and_held_for_review(api, order_body(kept, removed, quantity=2))

    answer = await change(api, order_id, lines=[{"sku": removed, "quantity": 0}])

    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"] == [
        {"sku": kept, "quantity": 2, "unit_price": PRICE, "tax_rate": None, "returned": 0}
    ]
    assert answer.json()["total"] == 2 * PRICE
    assert (await stock_of(api, removed))["reserved"] == 0
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    assert (await stock_of(api, removed))["on_hand"] == 10  # never shipped
    await assert_sound(sessions, order_id)


async def test_a_backordered_order_changed_to_lines_in_stock_reserves_them_at_once(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    missing, instead = await new_sku(0), await new_sku(5)
    order_id = await place(api, order_body(missing, quantity=2))
    await wait_for_status(api, order_id, "backordered")
    lines = [{"sku": missing, "quantity": 0}, {"sku": instead, "quantity": 2, "unit_price": PRICE}]

    answer = await change(api, order_id, lines=lines)

    assert answer.status_code == 200, answer.text
    await wait_for_status(api, order_id, "on_hold", within=10)  # reserved, then the review
    assert (await stock_of(api, instead))["reserved"] == 2
    assert (await release_to_completion(api, order_id))["status"] == "completed"
    await assert_sound(sessions, order_id)


# The address


async def test_a_new_address_is_the_orders_until_it_completes(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
) -> None:
    order_id = await placed_and_held_for_review(api, order_body(await new_sku(5)))

    answer = await change(api, order_id, shipping_address=NEW_ADDRESS, reason="moved")

    assert answer.status_code == 200, answer.text
    assert answer.json()["shipping_address"] == NEW_ADDRESS
    assert answer.json()["total"] == 2 * PRICE
    assert answer.json()["history"][-1]["reason"] == (
        "changed: address: 2 Rue de Rivoli, Paris, FR: moved"
    )
    done = await release_to_completion(api, order_id)
    assert (done["status"], done["shipping_address"]) == ("completed", NEW_ADDRESS)
    assert len(done["shipments"]) == 1
    await assert_sound(sessions, order_id)


async def test_after_picking_lines_are_refused_but_the_address_still_changes(
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
        order_id = await placed_and_held_for_review(api, order_body(sku))
        assert (await release(api, order_id)).status_code == 200
        await wait_for_status(api, order_id, "picked")
        held = await hold(api, order_id)  # lands once packing is done
        assert held.status_code == 200, held.text

        lines = await change(api, order_id, lines=[{"sku": sku, "quantity": 1}])
        address = await change(api, order_id, shipping_address=NEW_ADDRESS)
        done = await release_to_completion(api, order_id)

    reason = "order is packed: lines can only change before picking"
    assert (lines.status_code, lines.json()) == (409, {"detail": reason})
    assert address.status_code == 200, address.text
    assert (done["status"], done["shipping_address"]) == ("completed", NEW_ADDRESS)
    assert done["lines"] == [
        {"sku": sku, "quantity": 2, "unit_price": PRICE, "tax_rate": None, "returned": 0}
    ]
    rows = await audit_of(api, order_id)
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("release", "accepted"),
        ("hold", "accepted"),
        ("change", "refused"),
        ("change", "accepted"),
        ("release", "accepted"),
    ]
    assert rows[2]["detail"] == reason
    await assert_sound(sessions, order_id)


# Requests that cannot apply to the order: 422 at the field


BAD_CHANGES: list[tuple[str, Any, list[str | int], str | None]] = [
    # (what, body from (SKU on the order, a known SKU not on it), loc, type)
    ("nothing to change", lambda sku, other: {}, ["body"], "empty_change"),
    (
        "a SKU twice",
        lambda sku, other: {"lines": [{"sku": sku, "quantity": 1}, {"sku": sku, "quantity": 3}]},
        ["body", "lines", 1, "sku"],
        "duplicate_sku",
    ),
    (
        "a new SKU without a price",
        lambda sku, other: {"lines": [{"sku": other, "quantity": 1}]},
        ["body", "lines", 0, "unit_price"],
        "missing",
    ),
    (
        "a new price for a line",
        lambda sku, other: {"lines": [{"sku": sku, "quantity": 2, "unit_price": 1}]},
        ["body", "lines", 0, "unit_price"],
        "price_change",
    ),
    (
        "an unknown SKU",
        lambda sku, other: {
            "lines": [{"sku": f"SKU-NEVER-{uuid4().hex[:8]}", "quantity": 1, "unit_price": 100}]
        },
        ["body", "lines", 0, "sku"],
        "unknown_sku",
    ),
    (
        "a negative quantity",
        lambda sku, other: {"lines": [{"sku": sku, "quantity": -1}]},
        ["body", "lines", 0, "quantity"],
        None,
    ),
    ("no lines", lambda sku, other: {"lines": []}, ["body", "lines"], None),
    (
        "a bad country",
        lambda sku, other: {"shipping_address": NEW_ADDRESS | {"country": "FRA"}},
        ["body", "shipping_address", "country"],
        None,
    ),
    ("an unknown field", lambda sku, other: {"coupon": "FREE"}, ["body", "coupon"], None),
]


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [pytest.param(body, loc, kind, id=what) for what, body, loc, kind in BAD_CHANGES],
)
async def test_a_change_that_cannot_apply_answers_422_at_its_field(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    body: Any,
    loc: list[str | int],
    kind: str | None,
) -> None:
    sku, other = await new_sku(5), await new_sku(5)
    order_id = await place(api, order_body(sku))  # no worker needed: the API answers alone

    answer = await change(api, order_id, **body(sku, other))

    assert answer.status_code == 422, answer.text
    errors = answer.json()["detail"]
    assert loc in [error["loc"] for error in errors]
    if kind is not None:
        assert kind in [error["type"] for error in errors]
    assert (await order_of(api, order_id))["lines"][0]["quantity"] == 2


async def test_a_requested_by_that_is_empty_answers_422(api: httpx.AsyncClient) -> None:
    body = {"shipping_address": NEW_ADDRESS, "requested_by": ""}
    answer = await api.post(f"/v1/orders/{uuid4()}/changes", json=body)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "requested_by"]
