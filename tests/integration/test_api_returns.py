"""POST /v1/orders/{id}/returns and the return's Updates over real HTTP with a real worker:
what they refuse (409, 422, 403, 404), what they replay, receipts that add up, the audit trail,
and what the order, the inventory and the list show of it."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory
from devstack.network import free_port
from reconciler import reconcile_once
from security.roles import Role
from settings import Settings
from tests.harness.keys import bearer, issue_key
from tests.harness.orders import MakeOrderBody, wait_for_status
from tests.harness.returns import Json, labelled, receive, request_return, wait_for_return
from tests.harness.servers import serve_api
from tests.harness.storefront import completed_order, place, stock
from workflows.return_contracts import return_workflow_id

pytestmark = pytest.mark.integration

PRICE = 1999  # the harness's unit price


def lines(sku: str, quantity: int = 1, reason: str = "changed_mind") -> list[Json]:
    return [{"sku": sku, "quantity": quantity, "reason": reason}]


async def delivered(http: httpx.AsyncClient, order_body: MakeOrderBody, quantity: int = 3) -> Json:
    """A completed (delivered) order of `quantity` units of a new SKU."""
    return await completed_order(http, order_body(await stock(http, 10), quantity=quantity))


def sku_of(order: Json) -> str:
    sku: str = order["lines"][0]["sku"]
    return sku


async def audit(http: httpx.AsyncClient, order_id: str) -> list[tuple[str, str, str]]:
    rows = (await http.get(f"/v1/orders/{order_id}/audit")).json()
    return [(row["action"], row["outcome"], row["requested_by"]) for row in rows]


@pytest.fixture
async def manual(settings: Settings, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API (admin key) with returns waiting for support's decision."""
    decided = settings.model_copy(update={"return_auto_approve": False})
    async with serve_api(decided, admin_key) as client:
        yield client


async def test_a_return_is_approved_labelled_and_shown_on_its_order(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    sku = sku_of(order)
    body = {"lines": [lines(sku, 2)[0] | {"note": "too small"}], "resolution": "refund"}

    asked = await http.post(f"/v1/orders/{order['id']}/returns", json=body)
    ret = await wait_for_return(http, asked.json()["id"], "awaiting_receipt")
    shown = (await http.get(f"/v1/orders/{order['id']}")).json()
    listed = (await http.get(f"/v1/orders/{order['id']}/returns")).json()["items"]

    assert asked.status_code == 202
    assert asked.headers["Location"] == f"/v1/returns/{ret['id']}"
    assert asked.json()["status"] == "requested"
    assert [h["status"] for h in ret["history"]] == ["requested", "approved", "awaiting_receipt"]
    assert ret["history"][0]["actor"] == "key:tests-admin"
    assert ret["label"]["tracking_number"]
    assert ret["receive_by"]
    assert ret["lines"] == [
        {
            "sku": sku,
            "quantity": 2,
            "reason": "changed_mind",
            "note": "too small",
            "received": 0,
            "resellable": 0,
            "damaged": 0,
            "condition": None,
        }
    ]
    assert (ret["resolution"], ret["refund"], ret["exchange_order_id"]) == ("refund", None, None)
    assert shown["returns"] == [{"id": ret["id"], "status": "awaiting_receipt"}]
    assert (shown["claims"], shown["lines"][0]["returned"]) == ([], 0)
    assert [r["id"] for r in listed] == [ret["id"]]
    assert ("return_request", "accepted", "key:tests-admin") in await audit(http, order["id"])


async def test_the_same_key_replays_the_return_and_another_body_is_a_409(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    url, key = f"/v1/orders/{order['id']}/returns", {"Idempotency-Key": str(uuid4())}
    body = {"lines": lines(sku_of(order)), "resolution": "store_credit"}

    first = await http.post(url, json=body, headers=key)
    again = await http.post(url, json=body, headers=key)
    other = await http.post(url, json=body | {"resolution": "refund"}, headers=key)

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert "different return" in other.json()["detail"]
    assert len((await http.get(url)).json()["items"]) == 1


UNKNOWN = "SKU-NEVER-HEARD-OF"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"lines": lines("SKU-NOT-ON-IT")}, ["body", "lines", 0, "sku"]),
        ({"lines": [*lines("{sku}"), *lines("{sku}")]}, ["body", "lines", 1, "sku"]),
        ({"lines": lines("{sku}", reason="bored")}, ["body", "lines", 0, "reason"]),
        ({"resolution": "exchange"}, ["body", "exchange_lines"]),
        ({"exchange_lines": [{"sku": "{sku}", "quantity": 1}]}, ["body", "exchange_lines"]),
        ({"advance": True}, ["body", "advance"]),
        (
            {"resolution": "exchange", "exchange_lines": [{"sku": UNKNOWN, "quantity": 1}]},
            ["body", "exchange_lines", 0, "sku"],
        ),
        (
            {"resolution": "exchange", "exchange_lines": [{"sku": "{never_sold}", "quantity": 1}]},
            ["body", "exchange_lines", 0, "unit_price"],
        ),
    ],
    ids=[
        "sku not on the order",
        "sku twice",
        "unknown reason",
        "exchange without lines",
        "exchange lines without exchange",
        "advance without exchange",
        "unknown exchange sku",
        "exchange sku never sold without a price",
    ],
)
async def test_a_return_that_does_not_fit_the_order_is_a_422_naming_the_field(
    http: httpx.AsyncClient, order_body: MakeOrderBody, change: Json, loc: list[Any]
) -> None:
    sku, never_sold = await stock(http, 0), await stock(http, 5)
    order_id = await place(http, order_body(sku))  # no worker: checked before its status
    body = {"lines": lines(sku), "resolution": "refund"} | change
    filled = _fill(body, sku=sku, never_sold=never_sold)

    answer = await http.post(f"/v1/orders/{order_id}/returns", json=filled)

    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]]


def _fill(value: Any, **names: str) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(item, **names) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, **names) for key, item in value.items()}
    return value


async def test_an_exchange_sku_that_sold_before_or_has_a_price_is_accepted(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body)
    priced = await stock(http, 5)
    body = {
        "lines": lines(sku_of(order)),
        "resolution": "exchange",
        "exchange_lines": [{"sku": priced, "quantity": 1, "unit_price": 2500}],
    }

    answer = await http.post(f"/v1/orders/{order['id']}/returns", json=body)

    assert answer.status_code == 202, answer.text
    assert answer.json()["exchange_lines"] == [{"sku": priced, "quantity": 1, "unit_price": 2500}]


async def test_an_order_not_shipped_is_a_409(
    http: httpx.AsyncClient, order_body: MakeOrderBody
) -> None:
    sku = await stock(http, 0)
    order_id = await place(http, order_body(sku))  # no worker: it stays pending

    answer = await http.post(
        f"/v1/orders/{order_id}/returns", json={"lines": lines(sku), "resolution": "refund"}
    )

    assert answer.status_code == 409
    assert "has not been shipped" in answer.json()["detail"]
    assert await audit(http, order_id) == [("return_request", "refused", "key:tests-admin")]


async def test_outside_the_return_window_is_a_409(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    settings: Settings,
    admin_key: str,
) -> None:
    order = await delivered(http, order_body)
    closed = settings.model_copy(update={"return_window": timedelta(0)})

    async with serve_api(closed, admin_key) as late:
        answer = await late.post(
            f"/v1/orders/{order['id']}/returns",
            json={"lines": lines(sku_of(order)), "resolution": "refund"},
        )

    assert answer.status_code == 409
    assert "outside the return window" in answer.json()["detail"]


async def test_more_units_than_shipped_less_those_being_returned_is_a_409(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    url, sku = f"/v1/orders/{order['id']}/returns", sku_of(order)

    two = await http.post(url, json={"lines": lines(sku, 2), "resolution": "refund"})
    two_more = await http.post(url, json={"lines": lines(sku, 2), "resolution": "refund"})
    four = await http.post(url, json={"lines": lines(sku, 4), "resolution": "refund"})
    last = await http.post(url, json={"lines": lines(sku, 1), "resolution": "refund"})

    assert (two.status_code, two_more.status_code, four.status_code) == (202, 409, 409)
    assert "3 shipped, 2 already returned, being returned" in two_more.json()["detail"]
    assert last.status_code == 202
    outcomes = [(a, o) for a, o, _ in await audit(http, order["id"])]
    assert outcomes.count(("return_request", "refused")) == 2
    assert outcomes.count(("return_request", "accepted")) == 2


async def test_receipts_add_up_restock_write_off_and_give_the_money_back(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    sku = sku_of(order)
    before = (await http.get(f"/v1/inventory/{sku}")).json()
    ret = await labelled(http, order["id"], lines=lines(sku, 2), resolution="store_credit")

    partly = await receive(http, ret["id"], (sku, 1, "resellable"))
    done = await receive(http, ret["id"], (sku, 1, "damaged"))
    done = await wait_for_return(http, ret["id"], "completed")
    after = (await http.get(f"/v1/inventory/{sku}")).json()
    shown = (await http.get(f"/v1/orders/{order['id']}")).json()

    assert partly["status"] == "awaiting_receipt"
    assert partly["lines"][0] | {"note": None} == {
        "sku": sku,
        "quantity": 2,
        "reason": "changed_mind",
        "note": None,
        "received": 1,
        "resellable": 1,
        "damaged": 0,
        "condition": "resellable",
    }
    assert (done["lines"][0]["received"], done["lines"][0]["condition"]) == (2, "damaged")
    assert done["refund"]["method"] == "store_credit"
    assert (done["refund"]["amount"], done["refund"]["status"]) == (2 * PRICE, "succeeded")
    assert after["on_hand"] == before["on_hand"] + 1
    assert after["damaged"] == before["damaged"] + 1 == 1
    assert shown["lines"][0]["returned"] == 2
    assert shown["returns"] == [{"id": ret["id"], "status": "completed"}]
    receipts = [row for row in await audit(http, order["id"]) if row[0] == "return_receive"]
    assert receipts == [("return_receive", "accepted", "key:tests-admin")] * 2


async def test_a_receipt_must_fit_the_return(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    sku = sku_of(order)
    ret = await labelled(http, order["id"], lines=lines(sku, 1), resolution="refund")
    url = f"/v1/returns/{ret['id']}/receive"

    def scan(*got: tuple[str, int, str]) -> Json:
        return {"lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in got]}

    elsewhere = await http.post(url, json=scan(("SKU-NOT-IN-IT", 1, "resellable")))
    twice = await http.post(url, json=scan((sku, 1, "damaged"), (sku, 1, "damaged")))
    none = await http.post(url, json=scan((sku, 0, "resellable")))
    broken = await http.post(url, json=scan((sku, 1, "broken")))
    too_many = await http.post(url, json=scan((sku, 1, "resellable"), (sku, 1, "damaged")))

    assert [a.status_code for a in (elsewhere, twice, none, broken)] == [422] * 4
    assert elsewhere.json()["detail"][0]["loc"] == ["body", "lines", 0, "sku"]
    assert twice.json()["detail"][0]["loc"] == ["body", "lines", 1, "sku"]
    assert too_many.status_code == 409
    assert "more than expected: 1 asked back, 0 received" in too_many.json()["detail"]
    assert ("return_receive", "refused", "key:tests-admin") in await audit(http, order["id"])


async def test_support_approves_or_declines_a_return_that_waits_for_them(
    manual: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(manual, order_body, quantity=3)
    sku = sku_of(order)
    first = await request_return(manual, order["id"], lines=lines(sku), resolution="refund")
    second = await request_return(manual, order["id"], lines=lines(sku), resolution="refund")
    approve, key = f"/v1/returns/{first['id']}/approve", {"Idempotency-Key": str(uuid4())}
    decline = f"/v1/returns/{second['id']}/decline"

    blank = await manual.post(decline, json={"reason": "  "})
    missing = await manual.post(decline, json={})
    approved = await manual.post(approve, json={"reason": "fine"}, headers=key)
    replayed = await manual.post(approve, json={"reason": "fine"}, headers=key)
    reused = await manual.post(approve, json={"reason": "other"}, headers=key)
    again = await manual.post(approve, json={})
    declined = await manual.post(decline, json={"reason": "worn"})
    labelled_one = await wait_for_return(manual, first["id"], "awaiting_receipt")
    too_late = await manual.post(f"/v1/returns/{second['id']}/approve", json={})

    assert (blank.status_code, missing.status_code) == (422, 422)
    assert approved.status_code == 200, approved.text
    assert approved.json()["history"][1] | {"at": None} == {
        "status": "approved",
        "at": None,
        "reason": "fine",
        "actor": "key:tests-admin",
    }
    assert (replayed.status_code, replayed.json()["id"]) == (200, first["id"])
    assert reused.status_code == 409
    assert again.status_code == 409
    assert "only a requested return is decided" in again.json()["detail"]
    assert declined.json()["status"] == "declined"
    assert declined.json()["history"][-1]["reason"] == "worn"
    assert labelled_one["label"] is not None
    assert too_late.status_code == 409
    assert "declined" in too_late.json()["detail"]
    trail = [(a, o) for a, o, _ in await audit(manual, order["id"])]
    assert trail.count(("return_approve", "accepted")) == 1  # the replay wrote nothing
    assert ("return_decline", "accepted") in trail
    assert trail.count(("return_approve", "refused")) == 2


async def test_the_storefront_cancels_its_own_channels_return_and_no_other(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    role_keys: dict[Role, str],
    sessions: SessionFactory,
    settings: Settings,
) -> None:
    order = await delivered(http, order_body, quantity=3)
    ret = await labelled(http, order["id"], lines=lines(sku_of(order)), resolution="refund")
    shop, url = bearer(role_keys[Role.STOREFRONT]), f"/v1/returns/{ret['id']}"
    other = bearer(await issue_key(sessions, settings, Role.STOREFRONT, f"shop-{uuid4().hex[:8]}"))

    unseen = await http.post(f"{url}/cancel", json={}, headers=other)
    unread = await http.get(url, headers=other)
    listed = await http.get("/v1/returns", headers=other)
    cancelled = await http.post(f"{url}/cancel", json={"reason": "kept it"}, headers=shop)
    again = await http.post(f"{url}/cancel", json={}, headers=shop)

    assert (unseen.status_code, unread.status_code) == (404, 404)
    assert listed.json()["items"] == []
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["history"][-1]["actor"] == "key:tests-storefront"
    assert again.status_code == 409
    assert ("return_cancel", "accepted", "key:tests-storefront") in await audit(http, order["id"])


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        (Role.WAREHOUSE, "POST", "/v1/orders/{order}/returns", {}),
        (Role.OPS, "POST", "/v1/orders/{order}/returns", {}),
        (Role.STOREFRONT, "POST", "/v1/returns/{ret}/approve", {}),
        (Role.WAREHOUSE, "POST", "/v1/returns/{ret}/decline", {"reason": "no"}),
        (Role.SUPPORT, "POST", "/v1/returns/{ret}/receive", {}),
        (Role.WAREHOUSE, "POST", "/v1/returns/{ret}/cancel", {}),
    ],
    ids=lambda value: value.value if isinstance(value, Role) else None,
)
async def test_a_role_without_the_routes_scope_is_a_403(
    http: httpx.AsyncClient,
    role_keys: dict[Role, str],
    role: Role,
    method: str,
    path: str,
    body: Json,
) -> None:
    url = path.format(order="no-such-order", ret="no-such-return")

    answer = await http.request(method, url, json=body, headers=bearer(role_keys[role]))

    assert answer.status_code == 403
    assert answer.json()["scope"].startswith("returns:")


async def test_another_channels_order_is_no_order_to_a_storefront(
    http: httpx.AsyncClient,
    order_body: MakeOrderBody,
    sessions: SessionFactory,
    settings: Settings,
) -> None:
    sku = await stock(http, 0)
    order_id = await place(http, order_body(sku))
    other = bearer(await issue_key(sessions, settings, Role.STOREFRONT, f"shop-{uuid4().hex[:8]}"))
    body = {"lines": lines(sku), "resolution": "refund"}

    asked = await http.post(f"/v1/orders/{order_id}/returns", json=body, headers=other)
    listed = await http.get(f"/v1/orders/{order_id}/returns", headers=other)

    assert (asked.status_code, listed.status_code) == (404, 404)


async def test_returns_are_listed_by_status_and_tracking_number_in_keyset_pages(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    sku = sku_of(order)
    made = [
        await labelled(http, order["id"], lines=lines(sku), resolution="refund") for _ in range(3)
    ]
    query: dict[str, str | int] = {"status": "awaiting_receipt", "limit": 2}

    first = (await http.get("/v1/returns", params=query)).json()
    second = (await http.get("/v1/returns", params=query | {"cursor": first["next_cursor"]})).json()
    tracked = made[0]["label"]["tracking_number"]
    by_label = (await http.get("/v1/returns", params={"tracking_number": tracked})).json()
    bad = await http.get("/v1/returns", params={"cursor": "not-a-cursor"})

    newest = [r["id"] for r in (*first["items"], *second["items"])]
    ours = [ret["id"] for ret in reversed(made)]
    assert newest[:3] == ours  # newest first; no other test's return is newer than these
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    assert [r["id"] for r in by_label["items"]] == [made[0]["id"]]
    assert bad.status_code == 422


async def test_a_resellable_receipt_wakes_an_order_backordered_on_the_sku(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=3)
    sku = sku_of(order)
    left = (await http.get(f"/v1/inventory/{sku}")).json()["available"]
    waiting = await place(http, order_body(sku, quantity=left + 1))
    await wait_for_status(http, waiting, "backordered")
    ret = await labelled(http, order["id"], lines=lines(sku), resolution="store_credit")

    await receive(http, ret["id"], (sku, 1, "resellable"))

    woken = await wait_for_status(http, waiting, "completed", "reserved", "picked", "packed")
    assert woken["status"] != "backordered"


async def test_an_exchange_places_a_replacement_linked_both_ways(
    http: httpx.AsyncClient, worker: Worker, order_body: MakeOrderBody
) -> None:
    order = await delivered(http, order_body, quantity=2)
    sku = sku_of(order)
    ret = await labelled(
        http,
        order["id"],
        lines=lines(sku, reason="wrong_item"),
        resolution="exchange",
        exchange_lines=[{"sku": sku, "quantity": 1}],
    )

    await receive(http, ret["id"], (sku, 1, "resellable"))
    done = await wait_for_return(http, ret["id"], "completed")
    replacement = (await http.get(f"/v1/orders/{done['exchange_order_id']}")).json()

    assert done["refund"] is None  # the goods paid for it exactly: no difference
    assert (replacement["exchange_for"], replacement["placed_by_return"]) == (
        order["id"],
        ret["id"],
    )
    assert replacement["total"] == PRICE


async def test_a_stored_return_whose_workflow_did_not_start_is_started_by_the_reconciler(
    http: httpx.AsyncClient,
    worker: Worker,
    order_body: MakeOrderBody,
    settings: Settings,
    admin_key: str,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
) -> None:
    order = await delivered(http, order_body)
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    body = {"lines": lines(sku_of(order)), "resolution": "refund"}
    async with serve_api(down, admin_key) as without_temporal:
        refused = await without_temporal.post(f"/v1/orders/{order['id']}/returns", json=body)
    [stored] = (await http.get(f"/v1/orders/{order['id']}/returns")).json()["items"]

    now = settings.model_copy(update={"reconcile_grace": timedelta(0)})
    await reconcile_once(temporal_env.client, sessions, now)

    assert refused.status_code == 503
    assert "retry with the same Idempotency-Key" in refused.json()["detail"]
    handle = temporal_env.client.get_workflow_handle(return_workflow_id(stored["id"]))
    assert (await handle.describe()).id == return_workflow_id(stored["id"])
    await wait_for_return(http, stored["id"], "awaiting_receipt")
