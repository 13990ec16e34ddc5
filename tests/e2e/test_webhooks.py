"""A CRM subscribes and receives the OMS's events over real HTTP, signed as the Standard Webhooks
specification says and verified here with its library, as a receiver would; secrets rotate with
a day of overlap; replays send past events again; URLs that point inside are refused.

The tests share one OMS (a database of the module's own, a worker, the relay); each removes its
endpoints when it ends, and counts only the events of its own orders."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from temporalio.testing import WorkflowEnvironment

from tests.harness.integration_stack import Integrated, integrated, integrated_settings
from tests.harness.orders import MakeOrderBody
from tests.harness.receiver import Receiver, Reply, Seen, receiving
from tests.harness.storefront import completed_order, stock

pytestmark = pytest.mark.e2e
ORDER_EVENTS = ["order.created", "order.shipped", "order.delivered", "order.completed"]
Json = dict[str, Any]


@pytest.fixture(scope="module")
async def oms(postgres_url: str, temporal_env: WorkflowEnvironment) -> AsyncIterator[Integrated]:
    async with integrated(integrated_settings(postgres_url, temporal_env), temporal_env) as stack:
        yield stack


@asynccontextmanager
async def subscribed(http: httpx.AsyncClient, url: str, events: list[str]) -> AsyncIterator[Json]:
    """An endpoint for the test's receiver, deleted when the test is done with it."""
    created = await http.post("/v1/webhook-endpoints", json={"url": url, "events": events})
    assert created.status_code == 201, created.text
    endpoint: Json = created.json()
    try:
        yield endpoint
    finally:
        await http.delete(f"/v1/webhook-endpoints/{endpoint['id']}")


async def received(receiver: Receiver, count: int, within: float = 30.0) -> None:
    for _ in range(int(within / 0.05)):
        if len(receiver.requests) >= count:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{len(receiver.requests)} deliveries, not {count}, after {within}s")


def about(request: Seen, order_id: str) -> bool:
    """Whether the delivered event is about this order."""
    body: Json = json.loads(request.body)
    order: Json = body["data"].get("order", {})
    return order.get("id") == order_id


async def test_a_subscriber_gets_each_event_it_asked_for_signed_and_in_sequence(
    oms: Integrated, order_body: MakeOrderBody
) -> None:
    async with (
        receiving() as receiver,
        subscribed(oms.http, receiver.url(), ORDER_EVENTS) as endpoint,
    ):
        order = await completed_order(oms.http, order_body(await stock(oms.http, 5)))
        await received(receiver, 4)
        await asyncio.sleep(0.5)  # nothing more is coming
        listed = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")

    verifier = Webhook(endpoint["secret"])
    mine = [r for r in receiver.requests if about(r, order["id"])]
    payloads = [verifier.verify(r.body, r.headers) for r in mine]
    assert endpoint["secret"].startswith("whsec_")
    assert sorted(p["type"] for p in payloads) == sorted(ORDER_EVENTS)  # no other types
    assert all(p["data"]["order"]["id"] == order["id"] for p in payloads)
    in_order = sorted(payloads, key=lambda p: p["aggregate"]["sequence"])
    assert [p["type"] for p in in_order] == ORDER_EVENTS
    shipped = next(p for p in payloads if p["type"] == "order.shipped")
    assert (
        shipped["data"]["shipment"]["tracking_number"] == order["shipments"][0]["tracking_number"]
    )
    assert {r.headers["webhook-id"] for r in mine} == {p["id"] for p in payloads}
    ours = [d for d in listed.json()["items"] if d["event_id"] in {p["id"] for p in payloads}]
    assert [d["status"] for d in ours] == ["succeeded"] * 4
    assert all(d["last_status_code"] == 200 and d["attempts"] == 1 for d in ours)


async def test_during_a_rotation_each_delivery_verifies_with_the_old_and_the_new_secret(
    oms: Integrated, order_body: MakeOrderBody
) -> None:
    async with (
        receiving() as receiver,
        subscribed(oms.http, receiver.url(), ["order.created"]) as endpoint,
    ):
        rotated = await oms.http.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
        placed = await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
        await received(receiver, 1)
        shown = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}")

    [request] = [r for r in receiver.requests if about(r, placed.json()["id"])]
    old, new = endpoint["secret"], rotated.json()["secret"]
    assert old != new
    assert Webhook(old).verify(request.body, request.headers)["type"] == "order.created"
    assert Webhook(new).verify(request.body, request.headers)["type"] == "order.created"
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert "secret" not in shown.json()  # shown at creation and rotation only


async def test_a_replay_sends_past_events_again_under_their_ids(
    oms: Integrated, order_body: MakeOrderBody
) -> None:
    async with (
        receiving() as receiver,
        subscribed(oms.http, receiver.url(), ["order.created"]) as endpoint,
    ):
        for _ in range(2):
            await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
        await received(receiver, 2)
        replay = await oms.http.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay",
            json={"since": endpoint["created_at"]},
        )
        await received(receiver, 4)

    first, again = receiver.requests[:2], receiver.requests[2:]
    assert replay.status_code == 202
    assert replay.json()["replayed"] == 2
    assert {r.headers["webhook-id"] for r in again} == {r.headers["webhook-id"] for r in first}
    assert {r.body for r in again} == {r.body for r in first}


async def test_a_deleted_or_disabled_endpoint_gets_nothing_more(
    oms: Integrated, order_body: MakeOrderBody
) -> None:
    async with (
        receiving() as gone,
        receiving() as paused,
        receiving() as kept,
        subscribed(oms.http, gone.url(), ["*"]) as deleted,
        subscribed(oms.http, paused.url(), ["*"]) as disabled,
        subscribed(oms.http, kept.url(), ["order.created"]),
    ):
        await oms.http.delete(f"/v1/webhook-endpoints/{deleted['id']}")
        await oms.http.patch(f"/v1/webhook-endpoints/{disabled['id']}", json={"disabled": True})
        placed = await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
        order_id = placed.json()["id"]
        for _ in range(600):  # the kept endpoint hears of the order: the relay has passed it
            if any(about(r, order_id) for r in kept.requests):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        listed = (await oms.http.get("/v1/webhook-endpoints")).json()["items"]

    # Earlier tests' orders still move in this module's OMS: what reached the two endpoints
    # before they were deleted and disabled is theirs. Nothing about this order may.
    assert [r for r in kept.requests if about(r, order_id)] != []
    assert [r for r in gone.requests + paused.requests if about(r, order_id)] == []
    assert deleted["id"] not in {e["id"] for e in listed}


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    oms: Integrated, order_body: MakeOrderBody
) -> None:
    async with receiving() as target:
        moved = Reply(status=302, headers=(("Location", target.url()),))
        async with (
            receiving(moved) as redirecting,
            subscribed(oms.http, redirecting.url(), ["order.created"]) as endpoint,
        ):
            await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
            await received(redirecting, 1)
            await asyncio.sleep(0.5)
            listed = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")

    [delivery] = listed.json()["items"]
    assert target.requests == []
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", 302)
    assert target.url() in delivery["last_error"]
    assert delivery["next_attempt_at"] is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",  # a name that resolves to loopback
        "http://93.184.216.34/hook",  # not https
        "ftp://93.184.216.34/hook",
    ],
)
async def test_a_url_that_points_inside_or_is_not_https_is_refused(
    url: str, api: httpx.AsyncClient
) -> None:
    refused = await api.post("/v1/webhook-endpoints", json={"url": url, "events": ["*"]})

    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "url"]


async def test_an_address_allowed_at_creation_is_refused_again_at_delivery(
    postgres_url: str, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    """The API allowed a local receiver; the worker does not: every attempt checks anew."""
    hooks = integrated_settings(postgres_url, temporal_env)
    strict = hooks.model_copy(update={"webhook_allow_private": False})
    async with receiving() as receiver:
        async with integrated(hooks, temporal_env, worker=False) as api_only:
            created = await api_only.http.post(
                "/v1/webhook-endpoints", json={"url": receiver.url(), "events": ["order.created"]}
            )
            endpoint = created.json()
        async with integrated(strict, temporal_env) as oms:
            await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
            for _ in range(200):
                listed = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")
                if (items := listed.json()["items"]) and items[0]["attempts"]:
                    break
                await asyncio.sleep(0.05)

    [delivery] = items
    assert receiver.requests == []
    assert delivery["last_status_code"] is None
    assert delivery["last_error"] == "refused: the URL must start with https://"
