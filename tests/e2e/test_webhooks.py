"""A CRM subscribes and receives the OMS's events over real HTTP, signed as the Standard Webhooks
specification says and verified here with its library, as a receiver would; secrets rotate with
a day of overlap; replays send past events again; URLs that point inside are refused."""

import asyncio
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from temporalio.testing import WorkflowEnvironment

from settings import Settings
from tests.harness.integration_stack import integrated, integrated_settings
from tests.harness.orders import MakeOrderBody
from tests.harness.receiver import Receiver, Reply, receiving
from tests.harness.storefront import completed_order, stock

pytestmark = pytest.mark.e2e
ORDER_EVENTS = ["order.created", "order.shipped", "order.delivered", "order.completed"]


@pytest.fixture
def hooks(postgres_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    return integrated_settings(postgres_url, temporal_env)


async def subscribe(http: httpx.AsyncClient, url: str, events: list[str]) -> dict[str, Any]:
    created = await http.post("/v1/webhook-endpoints", json={"url": url, "events": events})
    assert created.status_code == 201, created.text
    endpoint: dict[str, Any] = created.json()
    return endpoint


async def received(receiver: Receiver, count: int, within: float = 30.0) -> None:
    for _ in range(int(within / 0.05)):
        if len(receiver.requests) >= count:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{len(receiver.requests)} deliveries, not {count}, after {within}s")


async def test_a_subscriber_gets_each_event_it_asked_for_signed_and_in_sequence(
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    async with receiving() as receiver, integrated(hooks, temporal_env) as oms:
        endpoint = await subscribe(oms.http, receiver.url(), ORDER_EVENTS)
        order = await completed_order(oms.http, order_body(await stock(oms.http, 5)))
        await received(receiver, 4)
        await asyncio.sleep(0.5)  # nothing more is coming
        listed = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")

    verifier = Webhook(endpoint["secret"])
    payloads = [verifier.verify(r.body, r.headers) for r in receiver.requests]
    assert endpoint["secret"].startswith("whsec_")
    assert sorted(p["type"] for p in payloads) == sorted(ORDER_EVENTS)  # no other types
    assert all(p["data"]["order"]["id"] == order["id"] for p in payloads)
    in_order = sorted(payloads, key=lambda p: p["aggregate"]["sequence"])
    assert [p["type"] for p in in_order] == ORDER_EVENTS
    shipped = next(p for p in payloads if p["type"] == "order.shipped")
    assert (
        shipped["data"]["shipment"]["tracking_number"] == order["shipments"][0]["tracking_number"]
    )
    assert {r.headers["webhook-id"] for r in receiver.requests} == {p["id"] for p in payloads}
    deliveries = listed.json()["items"]
    assert [d["status"] for d in deliveries] == ["succeeded"] * 4
    assert all(d["last_status_code"] == 200 and d["attempts"] == 1 for d in deliveries)


async def test_during_a_rotation_each_delivery_verifies_with_the_old_and_the_new_secret(
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    async with receiving() as receiver, integrated(hooks, temporal_env) as oms:
        endpoint = await subscribe(oms.http, receiver.url(), ["order.created"])
        rotated = await oms.http.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
        await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
        await received(receiver, 1)
        shown = await oms.http.get(f"/v1/webhook-endpoints/{endpoint['id']}")

    [request] = receiver.requests
    old, new = endpoint["secret"], rotated.json()["secret"]
    assert old != new
    assert Webhook(old).verify(request.body, request.headers)["type"] == "order.created"
    assert Webhook(new).verify(request.body, request.headers)["type"] == "order.created"
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert "secret" not in shown.json()  # shown at creation and rotation only


async def test_a_replay_sends_past_events_again_under_their_ids(
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    async with receiving() as receiver, integrated(hooks, temporal_env) as oms:
        endpoint = await subscribe(oms.http, receiver.url(), ["order.created"])
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
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    async with (
        receiving() as gone,
        receiving() as paused,
        receiving() as kept,
        integrated(hooks, temporal_env) as oms,
    ):
        deleted = await subscribe(oms.http, gone.url(), ["*"])
        disabled = await subscribe(oms.http, paused.url(), ["*"])
        await subscribe(oms.http, kept.url(), ["order.created"])
        await oms.http.delete(f"/v1/webhook-endpoints/{deleted['id']}")
        await oms.http.patch(f"/v1/webhook-endpoints/{disabled['id']}", json={"disabled": True})
        await oms.http.post("/v1/orders", json=order_body(await stock(oms.http, 5)))
        await received(kept, 1)
        await asyncio.sleep(0.5)
        listed = (await oms.http.get("/v1/webhook-endpoints")).json()["items"]

    assert gone.requests == paused.requests == []
    assert deleted["id"] not in {e["id"] for e in listed}


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    async with receiving() as target, integrated(hooks, temporal_env) as oms:
        moved = Reply(status=302, headers=(("Location", target.url()),))
        async with receiving(moved) as redirecting:
            endpoint = await subscribe(oms.http, redirecting.url(), ["order.created"])
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
    hooks: Settings, temporal_env: WorkflowEnvironment, order_body: MakeOrderBody
) -> None:
    """The API allowed a local receiver; the worker does not: every attempt checks anew."""
    strict = hooks.model_copy(update={"webhook_allow_private": False})
    async with receiving() as receiver:
        async with integrated(hooks, temporal_env, worker=False) as api_only:
            endpoint = await subscribe(api_only.http, receiver.url(), ["order.created"])
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
