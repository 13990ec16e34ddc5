"""Storefront isolation: a storefront key sees, lists, cancels and replays its own channel's
orders only; another channel's order is, to it, no order at all (404, never 403)."""

from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import bearer, issue_key
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Shops:
    """Two storefronts of channels no other test uses: their names and their keys' headers."""

    names: dict[str, str]
    headers: dict[str, dict[str, str]]

    def __getitem__(self, shop: str) -> dict[str, str]:
        return self.headers[shop]


@pytest.fixture
async def shops(sessions: SessionFactory, settings: Settings) -> Shops:
    names = {shop: f"{shop}-{uuid4().hex[:8]}" for shop in ("a", "b")}
    headers = {
        shop: bearer(await issue_key(sessions, settings, Role.STOREFRONT, channel))
        for shop, channel in names.items()
    }
    return Shops(names, headers)


async def placed_by(
    api: httpx.AsyncClient, shop: dict[str, str], body: dict[str, object], key: str = "k-1"
) -> dict[str, object]:
    answer = await api.post("/v1/orders", json=body, headers=shop | {"Idempotency-Key": key})
    assert answer.status_code == 202, answer.text
    order: dict[str, object] = answer.json()
    return order


async def test_another_channels_order_cannot_be_read_or_cancelled_and_looks_unknown(
    api: httpx.AsyncClient,
    shops: Shops,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await placed_by(api, shops["a"], order_body(await new_sku(5), channel=None))
    url, b = f"/v1/orders/{order['id']}", shops["b"]

    read = await api.get(url, headers=b)
    cancelled = await api.post(f"{url}/cancel", json={"reason": "mine now"}, headers=b)
    unknown = await api.get("/v1/orders/no-such-order", headers=b)

    assert order["channel"] == shops.names["a"]
    assert (read.status_code, unknown.status_code) == (404, 404)
    assert read.json() == {"detail": f"order {order['id']} not found"}  # as for any unknown id
    assert unknown.json() == {"detail": "order no-such-order not found"}
    assert cancelled.status_code == 404
    assert (await api.get(url, headers=shops["a"])).status_code == 200
    assert (await api.get(f"{url}/audit")).json() == []  # the cancel never reached the order


async def test_a_storefront_lists_only_its_own_channel_and_admins_filter_by_channel(
    api: httpx.AsyncClient,
    shops: Shops,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    body = order_body(await new_sku(5), channel=None)
    customer = body["customer"]["id"]
    mine = await placed_by(api, shops["a"], body)
    theirs = await placed_by(api, shops["b"], body)
    query = {"customer_id": customer}

    def ids(answer: httpx.Response) -> list[object]:
        assert answer.status_code == 200
        return [order["id"] for order in answer.json()["items"]]

    assert ids(await api.get("/v1/orders", params=query, headers=shops["a"])) == [mine["id"]]
    assert ids(await api.get("/v1/orders", params=query, headers=shops["b"])) == [theirs["id"]]
    peek = query | {"channel": shops.names["b"]}
    assert ids(await api.get("/v1/orders", params=peek, headers=shops["a"])) == []
    assert ids(await api.get("/v1/orders", params=peek)) == [theirs["id"]]  # admin
    assert set(ids(await api.get("/v1/orders", params=query))) == {mine["id"], theirs["id"]}


async def test_the_same_idempotency_key_in_two_channels_places_two_orders(
    api: httpx.AsyncClient,
    shops: Shops,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    body = order_body(await new_sku(5), channel=None)

    first = await placed_by(api, shops["a"], body, key="same")
    second = await placed_by(api, shops["b"], body, key="same")
    replayed = await placed_by(api, shops["a"], body, key="same")

    assert first["id"] != second["id"]
    assert (first["channel"], second["channel"]) == (shops.names["a"], shops.names["b"])
    assert replayed["id"] == first["id"]  # its own replay still finds its own order


async def test_a_storefront_places_on_its_own_channel_and_an_admin_must_name_one(
    api: httpx.AsyncClient,
    shops: Shops,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    sku = await new_sku(5)

    b = shops.names["b"]

    as_admin = await api.post("/v1/orders", json=order_body(sku, channel=None))
    elsewhere = await api.post("/v1/orders", json=order_body(sku, channel=b), headers=shops["a"])
    named = await api.post("/v1/orders", json=order_body(sku, channel=b))

    assert as_admin.status_code == elsewhere.status_code == 422
    assert [e["loc"] for e in as_admin.json()["detail"]] == [["body", "channel"]]
    assert f"own channel {shops.names['a']!r}" in elsewhere.json()["detail"][0]["msg"]
    assert (named.status_code, named.json()["channel"]) == (202, b)


async def test_history_and_audit_name_the_authenticated_caller_and_keep_the_label(
    api: httpx.AsyncClient,
    worker: Worker,
    shops: Shops,
    sessions: SessionFactory,
    settings: Settings,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await placed_by(api, shops["a"], order_body(await new_sku(0), channel=None))
    await wait_for_status(api, str(order["id"]), "backordered")
    support = bearer(await issue_key(sessions, settings, Role.SUPPORT))
    body = {"reason_code": "customer_request", "requested_by": "someone-else"}

    held = await api.post(f"/v1/orders/{order['id']}/hold", json=body, headers=support)

    assert held.status_code == 200, held.text
    placed, *_, on_hold = held.json()["history"]
    assert placed["actor"].startswith("key:test-storefront-")
    assert on_hold["actor"].startswith("key:test-support-")
    [audit] = (await api.get(f"/v1/orders/{order['id']}/audit")).json()
    assert audit["requested_by"] == on_hold["actor"]
    assert audit["label"] == "someone-else"
