"""A customer's console page, by httpx: the customer view with their orders (newest first), store
credit and returns, who may read it, and the order page's way to it and its customer e-mails."""

import re
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select
from temporalio.worker import Worker

from db.models import EventRecord, NotificationRecord
from db.session import SessionFactory
from integration.catalog import EventType
from security.roles import Role
from settings import Settings
from tests.harness.console import logged_in
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.storefront import completed_order, place

pytestmark = pytest.mark.integration

Json = dict[str, Any]


def new_customer() -> Json:
    """An order body's `customer`, of a customer no other test has."""
    return {"id": f"cust-{uuid4()}", "email": "grace@example.com", "name": "Grace Hopper"}


def table(page: httpx.Response, label: str) -> str:
    """The HTML of the page's table named `label`."""
    start = page.text.index(f'<table aria-label="{label}"')
    return page.text[start : page.text.index("</table>", start)]


def shown(page: httpx.Response, test_id: str) -> str:
    """The text of the element with this data-testid (tags and spacing dropped)."""
    found = re.search(rf'data-testid="{test_id}"[^>]*>(.*?)</', page.text, re.DOTALL)
    assert found is not None, f"no {test_id} on {page.url}"
    return " ".join(found.group(1).split())


async def test_support_sees_the_customer_with_both_orders_newest_first_and_their_credit(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    customer = new_customer()
    sku = await new_sku(0)
    first = await place(api, order_body(sku, quantity=2, customer=customer))
    second = await place(api, order_body(sku, quantity=1, customer=customer))
    goodwill = {"amount": 500, "currency": "EUR", "reason": "sorry for the wait"}
    granted = await api.post(f"/v1/customers/{customer['id']}/store-credit", json=goodwill)
    async with logged_in(settings, sessions) as client:
        page = await client.get(f"/console/customers/{customer['id']}")

    assert granted.status_code == 201, granted.text
    assert page.status_code == 200
    assert shown(page, "customer-contact") == "Grace Hopper<br>grace@example.com"
    assert shown(page, "orders-count") == "2"
    assert shown(page, "store-credit") == "5.00 EUR"
    orders = table(page, "Orders")
    assert orders.index(second) < orders.index(first)  # newest first
    assert f'<a href="/console/orders/{first}">{first}</a>' in orders
    assert f'<a href="/console/orders/{second}">{second}</a>' in orders
    assert "39.98 EUR" in orders
    assert "19.99 EUR" in orders
    assert "1 Main St, 10115 Berlin" in table(page, "Addresses")
    entries = table(page, "Store credit entries")
    assert "sorry for the wait" in entries
    assert "issued" in entries


async def test_the_customer_page_lists_the_returns_of_their_orders_and_what_they_spent(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    customer = new_customer()
    order = await completed_order(api, order_body(await new_sku(5), customer=customer))
    body = {
        "lines": [{"sku": order["lines"][0]["sku"], "quantity": 1, "reason": "damaged"}],
        "resolution": "refund",
    }
    headers = {"Idempotency-Key": str(uuid4())}
    asked = await api.post(f"/v1/orders/{order['id']}/returns", json=body, headers=headers)
    async with logged_in(settings, sessions, Role.OPS) as client:
        page = await client.get(f"/console/customers/{customer['id']}")

    assert asked.status_code == 202, asked.text
    assert page.status_code == 200
    assert shown(page, "total-spent") == "39.98 EUR"  # invoiced when its payment was captured
    returned = table(page, "Returns and claims")
    assert f'<a href="/console/returns/{asked.json()["id"]}">' in returned
    assert f'<a href="/console/orders/{order["id"]}">' in returned


async def test_warehouse_gets_the_consoles_403_for_a_customer(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    customer = new_customer()
    await place(api, order_body(await new_sku(0), customer=customer))
    async with logged_in(settings, sessions, Role.WAREHOUSE) as client:
        page = await client.get(f"/console/customers/{customer['id']}")

    assert page.status_code == 403
    assert "Your role (warehouse) does not allow this (customers:read)." in page.text
    assert "Grace Hopper" not in page.text


async def test_an_unknown_customer_is_a_404_page(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with logged_in(settings, sessions) as client:
        page = await client.get("/console/customers/no-such-customer")

    assert page.status_code == 404
    assert "No customer has the id <code>no-such-customer</code>" in page.text


async def test_the_order_page_links_to_its_customer_and_lists_the_customer_emails(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    customer = new_customer()
    order_id = await place(api, order_body(await new_sku(0), customer=customer))
    subject = f"Your order {order_id} is on its way"
    await record_mail(sessions, order_id, subject)
    async with logged_in(settings, sessions) as client:
        page = await client.get(f"/console/orders/{order_id}")
    async with logged_in(settings, sessions, Role.WAREHOUSE) as client:
        warehouse = await client.get(f"/console/orders/{order_id}")

    assert page.status_code == 200
    link = f'<a href="/console/customers/{customer["id"]}" data-testid="customer-link">'
    assert f"{link}Grace Hopper</a>" in page.text
    mails = table(page, "Customer e-mails")
    assert "shipped" in mails
    assert "grace@example.com" in mails
    assert "status-notification-sent" in mails
    assert subject in mails
    assert warehouse.status_code == 200
    assert "/console/customers/" not in warehouse.text  # warehouse reads no customers
    assert "Customer e-mails" not in warehouse.text  # nor their e-mails


async def record_mail(sessions: SessionFactory, order_id: str, subject: str) -> None:
    """A sent shipped mail of the order, as the relay records one (for its order.created event:
    no order here ships)."""
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        event_id = await session.scalar(
            select(EventRecord.id).where(
                EventRecord.aggregate_id == order_id,
                EventRecord.type == EventType.ORDER_CREATED.value,
            )
        )
        assert event_id is not None
        session.add(
            NotificationRecord(
                id=f"ntf-{uuid4().hex}",
                order_id=order_id,
                kind="shipped",
                event_id=event_id,
                to_address="grace@example.com",
                language="en",
                message_id=f"<shipped.{event_id}.{order_id}@example.com>",
                subject=subject,
                status="sent",
                attempts=1,
                started=True,  # nothing for a relay to send
                created_at=now,
                sent_at=now,
            )
        )
