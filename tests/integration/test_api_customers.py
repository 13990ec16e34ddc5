"""The customer view through the API: kept by each placement in its own transaction, found by
e-mail, paged by cursor, and a storefront's only for the customers who ordered on its channel."""

from uuid import uuid4

import httpx
import pytest

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.factories import ADDRESS
from tests.harness.keys import bearer, issue_key
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.servers import serve_api

pytestmark = pytest.mark.integration


async def test_each_order_counts_and_its_address_comes_first(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku, who = await new_sku(10), f"cust-{uuid4()}"
    moved = ADDRESS | {"line1": "2 New Road"}
    first = order_body(sku, customer={"id": who, "email": "old@example.com", "name": "Ada"})
    second = order_body(
        sku,
        customer={"id": who, "email": "New@Example.com", "name": "Ada L."},
        shipping_address=moved,
    )
    placed = [(await api.post("/v1/orders", json=body)).json() for body in (first, second)]

    customer = (await api.get(f"/v1/customers/{who}")).json()

    assert customer["orders_count"] == 2
    assert (customer["email"], customer["name"]) == ("New@Example.com", "Ada L.")
    assert [a["line1"] for a in customer["addresses"]] == ["2 New Road", ADDRESS["line1"]]
    assert customer["first_order_at"] == placed[0]["created_at"]
    assert customer["last_order_at"] == placed[1]["created_at"]
    assert customer["total_spent"] == []  # nothing invoiced yet
    assert customer["store_credit"] == []


async def test_customers_are_found_by_email_in_any_case_a_page_at_a_time(
    api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku, email = await new_sku(10), f"{uuid4().hex[:8]}@Shop.example"
    ids = sorted(f"cust-{uuid4()}" for _ in range(3))
    for who in ids:
        body = order_body(sku, customer={"id": who, "email": email, "name": "Twin"})
        await api.post("/v1/orders", json=body)

    first = (await api.get("/v1/customers", params={"email": email.upper(), "limit": 2})).json()
    rest = (
        await api.get(
            "/v1/customers", params={"email": email, "limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()

    assert [c["id"] for c in first["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None


async def test_a_storefront_sees_only_the_customers_who_ordered_on_its_channel(
    settings: Settings, sessions: SessionFactory, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    sku, who, email = await new_sku(10), f"cust-{uuid4()}", f"{uuid4().hex[:8]}@x.example"
    admin = await issue_key(sessions, settings, Role.ADMIN)
    eu = await issue_key(sessions, settings, Role.STOREFRONT, "eu")
    us = await issue_key(sessions, settings, Role.STOREFRONT, "us")
    async with serve_api(settings) as client:
        body = order_body(sku, customer={"id": who, "email": email, "name": "Eu"}, channel="eu")
        assert (
            await client.post("/v1/orders", json=body, headers=bearer(admin))
        ).status_code == 202
        own = await client.get(f"/v1/customers/{who}", headers=bearer(eu))
        other = await client.get(f"/v1/customers/{who}", headers=bearer(us))
        listed_own = await client.get("/v1/customers", params={"email": email}, headers=bearer(eu))
        listed_other = await client.get(
            "/v1/customers", params={"email": email}, headers=bearer(us)
        )

    assert own.status_code == 200
    assert other.status_code == 404
    assert [c["id"] for c in listed_own.json()["items"]] == [who]
    assert listed_other.json()["items"] == []


async def test_an_unknown_customer_is_not_found(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/v1/customers/cust-{uuid4()}")).status_code == 404


async def test_an_unknown_orders_notifications_are_not_found(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/v1/orders/{uuid4()}/notifications")).status_code == 404
