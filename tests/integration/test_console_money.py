"""An order's money at the console, by httpx with the real worker: the payment, the invoice and
credit notes (and their PDFs), the refunds, and the refund form (support's, never ops')."""

import asyncio
import re
from typing import Any

import facturx  # type: ignore[import-untyped]
import httpx
import pytest
from temporalio.worker import Worker

from api.console import answers
from db.session import SessionFactory
from devstack.network import free_port
from security.roles import Role
from settings import Settings
from tests.harness.console import (
    csrf_in,
    logged_in,
    post_form,
)
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.storefront import completed_order, place

pytestmark = pytest.mark.integration

Json = dict[str, Any]
POSTING = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')
REFUND_FORM = re.compile(r'<form[^>]*action="[^"]*/refunds"[^>]*>(.*?)</form>', re.DOTALL)
KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


async def completed(api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody) -> Json:
    """A completed order of 3 x 19.99 EUR (5997), paid by card, invoiced."""
    return await completed_order(api, order_body(await new_sku(10), quantity=3))


async def settled_refunds(api: httpx.AsyncClient, order_id: str, within: float = 30) -> list[Json]:
    """The order's refunds once none is pending."""
    for _ in range(int(within / 0.05)):
        items: list[Json] = (await api.get(f"/v1/orders/{order_id}/refunds")).json()["items"]
        if all(item["status"] != "pending" for item in items):
            return items
        await asyncio.sleep(0.05)
    pytest.fail(f"the refunds of {order_id} are still pending after {within}s")


def refund_fields(**fields: str) -> dict[str, str]:
    return {"reason": "arrived damaged", "method": "original_payment", "amount": ""} | fields


async def test_the_order_page_shows_the_payment_and_the_invoice_with_its_pdf(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    [invoice] = order["invoices"]
    async with logged_in(settings, sessions) as client:
        page = await client.get(f"/console/orders/{order['id']}")
        pdf = await client.get(f"/console/invoices/{invoice['number']}.pdf")
    from_api = await api.get(f"/v1/invoices/{invoice['number']}/pdf")

    assert page.status_code == 200
    assert 'data-testid="payment-status">captured<' in page.text
    assert 'data-testid="captured">59.97 EUR<' in page.text
    assert 'data-testid="refunded">0.00 EUR<' in page.text
    assert 'data-testid="paid-with-store-credit">0.00 EUR<' in page.text
    link = f'<a href="/console/invoices/{invoice["number"]}.pdf">{invoice["number"]}.pdf</a>'
    assert link in page.text
    assert "up to 59.97 EUR, 59.97 EUR of it to the card" in page.text  # the refund form
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    disposition = f'attachment; filename="{invoice["number"]}.pdf"'
    assert pdf.headers["content-disposition"] == disposition  # Chrome's viewer obeys the CSP
    assert pdf.content.startswith(b"%PDF")
    # The API's PDF: the same length and XML (only its creation time, to the second, may differ).
    assert len(pdf.content) == len(from_api.content)
    assert facturx.get_xml_from_pdf(pdf.content) == facturx.get_xml_from_pdf(from_api.content)


async def test_a_refund_from_the_form_succeeds_with_a_credit_note_shown_on_the_page(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    path = f"/console/orders/{order['id']}"
    async with logged_in(settings, sessions) as client:
        sent = await post_form(client, path, f"{path}/refunds", refund_fields(amount="12.50"))
        answered = await client.get(path)
        [refund] = await settled_refunds(api, order["id"])
        page = await client.get(path)

    assert sent.status_code == 303
    assert sent.headers["location"] == path
    assert "Accepted: refund of 12.50 EUR to the original payment." in answered.text
    assert (refund["status"], refund["amount"], refund["method"]) == (
        "succeeded",
        1250,
        "original_payment",
    )
    assert refund["credit_note"] is not None
    rows = page.text[page.text.index('aria-label="Refunds"') :]
    assert "succeeded" in rows
    assert "arrived damaged" in rows
    assert f'href="/console/invoices/{refund["credit_note"]}.pdf"' in rows
    assert 'data-testid="refunded">12.50 EUR<' in page.text
    assert 'data-testid="payment-status">partially_refunded<' in page.text
    assert "up to 47.47 EUR" in page.text


async def test_the_same_refund_form_sent_twice_at_once_is_one_refund(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    sku, path = order["lines"][0]["sku"], f"/console/orders/{order['id']}"
    async with logged_in(settings, sessions) as client:
        page = await client.get(path)
        form = REFUND_FORM.search(page.text)
        assert form is not None
        key = KEY.search(form.group(1))
        assert key is not None
        fields = refund_fields(sku=sku, quantity="1", key=key.group(1), csrf=csrf_in(page))
        # A double click: both at once, so one of them meets the other's claim in the database.
        clicks = [client.post(f"{path}/refunds", data=fields) for _ in range(2)]
        sent = await asyncio.gather(*clicks)

    assert [answer.status_code for answer in sent] == [303, 303]
    shown = [answers.decode(answer.cookies[answers.COOKIE], order["id"]) for answer in sent]
    accepted = "Accepted: refund of 19.99 EUR to the original payment."
    assert all(answer and answer.text.startswith(accepted) for answer in shown), shown
    refunds = await settled_refunds(api, order["id"])
    assert [(r["amount"], r["lines"]) for r in refunds] == [(1999, [{"sku": sku, "quantity": 1}])]


async def test_a_refund_claimed_while_temporal_is_down_says_it_starts_later(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    path = f"/console/orders/{order['id']}"
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with logged_in(down, sessions) as client:
        await post_form(client, path, f"{path}/refunds", refund_fields(amount="1.00"))
        page = await client.get(path)

    [refund] = (await api.get(f"/v1/orders/{order['id']}/refunds")).json()["items"]
    assert refund["status"] == "pending"  # claimed: the reconciler starts it
    assert f"Claimed: refund {refund['id']}, but the workflow service did not answer" in page.text


async def test_a_refund_of_more_than_was_paid_is_refused_on_the_page_and_claims_nothing(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    path = f"/console/orders/{order['id']}"
    async with logged_in(settings, sessions) as client:
        await post_form(client, path, f"{path}/refunds", refund_fields(amount="59.98"))
        page = await client.get(path)

    assert "Refused: 59.98 EUR is more than is refundable: 59.97 EUR" in page.text
    assert (await api.get(f"/v1/orders/{order['id']}/refunds")).json()["items"] == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"amount": "12.345"}, "amount: 12.345 is not an amount of EUR like 12.50"),
        ({"amount": "1,000.00"}, "amount: 1,000.00 is not an amount of EUR like 12.50"),
        ({"amount": "0"}, "amount: must be more than 0"),
        ({}, "nothing to refund: enter an amount or the units to refund"),
        ({"amount": "5", "sku": "X", "quantity": "1"}, "an amount or units to refund, not both"),
        ({"amount": "5", "method": "cash"}, "method: Input should be"),
    ],
)
async def test_a_refund_form_that_cannot_be_read_says_what_to_fix(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    fields: dict[str, str],
    problem: str,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))  # no worker: it stays pending
    path = f"/console/orders/{order_id}"
    async with logged_in(settings, sessions) as client:
        await post_form(client, path, f"{path}/refunds", refund_fields(**fields))
        page = await client.get(path)

    assert "Not sent: the refund form needs fixing." in page.text
    assert problem in page.text


async def test_an_order_with_nothing_captured_offers_no_refund_and_refuses_one(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))  # no worker: it stays pending
    path = f"/console/orders/{order_id}"
    async with logged_in(settings, sessions) as client:
        shown = await client.get(path)
        await post_form(client, path, f"{path}/refunds", refund_fields(amount="1.00"))
        page = await client.get(path)

    assert "Nothing is captured yet, so nothing can be refunded" in shown.text
    assert f"{path}/refunds" not in POSTING.findall(shown.text)
    assert "Refused: nothing has been captured for this order yet" in page.text


async def test_ops_sees_the_money_but_no_refund_form_and_a_forged_refund_is_a_403(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    path = f"/console/orders/{order['id']}"
    async with logged_in(settings, sessions, Role.OPS) as client:
        page = await client.get(path)
        fields = refund_fields(amount="1.00", csrf=csrf_in(page), key="b" * 32)
        forged = await client.post(f"{path}/refunds", data=fields)

    assert POSTING.findall(page.text) == ["/console/logout"]
    assert 'aria-label="Payment"' in page.text
    assert 'aria-label="Invoices and credit notes"' in page.text
    assert forged.status_code == 403
    assert "Your role (ops) does not allow this (refunds:create)." in forged.text
    assert (await api.get(f"/v1/orders/{order['id']}/refunds")).json()["items"] == []


async def test_warehouse_sees_the_payment_but_not_the_invoices_and_may_not_read_a_pdf(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await completed(api, new_sku, order_body)
    [invoice] = order["invoices"]
    async with logged_in(settings, sessions, Role.WAREHOUSE) as client:
        page = await client.get(f"/console/orders/{order['id']}")
        pdf = await client.get(f"/console/invoices/{invoice['number']}.pdf")

    assert 'data-testid="captured">59.97 EUR<' in page.text
    assert "Invoices and credit notes" not in page.text
    assert 'aria-label="Refunds"' not in page.text
    assert pdf.status_code == 403
    assert "does not allow this (invoices:read)" in pdf.text


@pytest.mark.parametrize("number", ["INV-1999-999999", "no-such", "INV-2026-" + "9" * 40])
async def test_the_pdf_of_an_unknown_document_is_a_404_page(
    settings: Settings, sessions: SessionFactory, number: str
) -> None:
    async with logged_in(settings, sessions) as client:
        answer = await client.get(f"/console/invoices/{number}.pdf")

    assert answer.status_code == 404
    assert "No invoice or credit note has the id" in answer.text
