"""Customer e-mails over real SMTP (a real SMTP server on 127.0.0.1, aiosmtpd), from orders run
by the real worker: the happy path's mails in the customer's language, a cancellation's reason
in plain words, and a mail server that is down delaying mails without losing or doubling one."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from integration.mail.catcher import CaughtMail, MailCatcher, read_mailbox
from tests.factories import ADDRESS
from tests.harness.integration_stack import Integrated, integrated, integrated_settings
from tests.harness.orders import MakeOrderBody, wait_for_status
from tests.harness.storefront import completed_order, place, stock
from tests.harness.webhooks import has_workflow
from workflows.integration_contracts import mail_workflow_id

pytestmark = pytest.mark.e2e
US = ADDRESS | {"country": "US", "city": "Boston", "postal_code": "02108"}  # mails in English


@pytest.fixture(scope="module")
def catcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path_factory.mktemp("mail")) as running:
        yield running


@pytest.fixture(scope="module")
async def oms(
    postgres_url: str, temporal_env: WorkflowEnvironment, catcher: MailCatcher
) -> AsyncIterator[Integrated]:
    """One OMS for the module, mailing the catcher; each test mails a customer of its own."""
    settings = integrated_settings(postgres_url, temporal_env, smtp_url=catcher.url)
    async with integrated(settings, temporal_env) as stack:
        yield stack


async def mails_to(
    catcher: MailCatcher, address: str, count: int, within: float = 30.0
) -> list[CaughtMail]:
    """The mails `address` got, oldest first, once there are `count` of them."""
    for _ in range(int(within / 0.1)):
        got = [m for m in read_mailbox(catcher.directory) if m.to == address]
        if len(got) >= count:
            return sorted(got, key=lambda m: m.received_at)
        await asyncio.sleep(0.1)
    pytest.fail(f"{address} got {len(got)} mails, not {count}, within {within}s")


async def notifications(http: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    answer = await http.get(f"/v1/orders/{order_id}/notifications")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def customer(email: str) -> dict[str, str]:
    return {"id": f"cust-{email.split('@')[0]}", "email": email, "name": "Grete Müller"}


async def test_a_german_customer_gets_the_happy_paths_mails_in_german_with_the_tracking_number(
    oms: Integrated,
    temporal_env: WorkflowEnvironment,
    catcher: MailCatcher,
    order_body: MakeOrderBody,
) -> None:
    email = "grete@example.de"
    address = ADDRESS | {"country": "DE"}
    sku = await stock(oms.http, 5)
    body = order_body(sku, customer=customer(email), shipping_address=address)
    order = await completed_order(oms.http, body)
    got = await mails_to(catcher, email, 3)
    await asyncio.sleep(0.5)  # nothing more is coming
    sent = await notifications(oms.http, order["id"])

    [shipment] = order["shipments"]
    assert [n["kind"] for n in sent] == ["confirmed", "shipped", "delivered"]
    assert [n["status"] for n in sent] == ["sent"] * 3
    assert all(n["language"] == "de" and n["to"] == email for n in sent)
    assert [m.message_id for m in got] == [n["message_id"] for n in sent]  # once each
    workflows = [await has_workflow(temporal_env.client, mail_workflow_id(n["id"])) for n in sent]
    assert workflows == [False] * 3  # each sent by the relay itself
    assert len([m for m in read_mailbox(catcher.directory) if m.to == email]) == 3
    confirmed, shipped, delivered = got
    assert "Bestellung" in confirmed.subject
    assert order["id"] in shipped.subject
    assert shipment["tracking_number"] in shipped.text
    assert shipment["tracking_number"] in (shipped.html or "")
    assert "39,98\xa0€" in confirmed.text  # two at 19.99, formatted for Germany
    assert "Grete Müller" in delivered.text


async def test_a_cancelled_backorder_tells_the_customer_why_in_plain_words(
    oms: Integrated,
    catcher: MailCatcher,
    order_body: MakeOrderBody,
) -> None:
    email = "sam@example.com"
    sku = await stock(oms.http, 0)  # nothing there: the order waits for stock
    body = order_body(sku, customer=customer(email), shipping_address=US)
    order_id = await place(oms.http, body)
    await wait_for_status(oms.http, order_id, "backordered")
    [backordered] = await mails_to(catcher, email, 1)
    cancel = await oms.http.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "customer changed their mind"}
    )
    await wait_for_status(oms.http, order_id, "cancelled")
    _, cancelled = await mails_to(catcher, email, 2)

    assert cancel.status_code == 202
    assert sku in backordered.text
    assert "cancel" in cancelled.subject.lower()
    assert "cancelled_by_support" not in cancelled.text  # words, not the code
    assert "customer changed their mind" in cancelled.text  # support's note, as written


async def test_a_mail_server_down_delays_the_mails_then_sends_each_once(
    oms: Integrated,
    temporal_env: WorkflowEnvironment,
    catcher: MailCatcher,
    order_body: MakeOrderBody,
) -> None:
    email = "ada@example.com"
    catcher.fail_with(451)  # up, but refusing every message: "try again later"
    try:
        body = order_body(await stock(oms.http, 5), customer=customer(email), shipping_address=US)
        order = await completed_order(oms.http, body)  # it never waited for its mails
        await asyncio.sleep(1.0)
        while_down = await notifications(oms.http, order["id"])
    finally:
        catcher.fail_with(None)
    got = await mails_to(catcher, email, 3, within=60.0)
    await asyncio.sleep(1.0)
    after = await notifications(oms.http, order["id"])

    assert order["status"] == "completed"
    assert {n["status"] for n in while_down} <= {"pending", "sending"}
    assert any(n["last_error"] and "451" in n["last_error"] for n in while_down)
    assert [n["status"] for n in after] == ["sent"] * 3
    assert sorted(m.message_id for m in got) == sorted(n["message_id"] for n in after)
    workflows = [await has_workflow(temporal_env.client, mail_workflow_id(n["id"])) for n in after]
    assert workflows == [True] * 3  # the relay's first send failed: each went on in one
    assert len({m.message_id for m in got}) == 3  # none twice
