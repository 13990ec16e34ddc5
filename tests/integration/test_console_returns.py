"""Returns at the console, by httpx with the real worker: support's list with approve and
decline, a return's page, the warehouse's receiving page, an order's returns and claims, and
who may see and send what."""

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import csrf_in, log_in_http, make_user, post_form, serve_console_api
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.servers import serve_api
from tests.harness.storefront import completed_order
from tests.harness.support import audit_of, stock_of

pytestmark = pytest.mark.integration

Json = dict[str, Any]
POSTING = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')
POLL = 0.05


@asynccontextmanager
async def agent(
    settings: Settings, sessions: SessionFactory, role: Role = Role.SUPPORT
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The console in-process, logged in as a new user of `role`; the client and its actor."""
    user = await make_user(sessions, role)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        yield client, f"user:{user.username}"


@pytest.fixture
async def manual(settings: Settings, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API (admin key) of an app whose returns wait for support's approval."""
    waiting = settings.model_copy(update={"return_auto_approve": False})
    async with serve_api(waiting, admin_key) as client:
        yield client


async def delivered(api: httpx.AsyncClient, new_sku: MakeSku, order_body: MakeOrderBody) -> Json:
    """A completed (delivered) order of 2 units of a new SKU at 19.99 EUR, paid by card."""
    return await completed_order(api, order_body(await new_sku(10), quantity=2))


async def ask_return(api: httpx.AsyncClient, order: Json, quantity: int = 2) -> Json:
    """POST a refund return of `quantity` units of the order's first line, as the storefront's."""
    body = {
        "lines": [{"sku": order["lines"][0]["sku"], "quantity": quantity, "reason": "damaged"}],
        "resolution": "refund",
    }
    headers = {"Idempotency-Key": str(uuid4())}
    asked = await api.post(f"/v1/orders/{order['id']}/returns", json=body, headers=headers)
    assert asked.status_code == 202, asked.text
    created: Json = asked.json()
    return created


async def return_once(api: httpx.AsyncClient, return_id: str, *statuses: str) -> Json:
    """The return once it is in one of `statuses` (the workflow writes it a moment later)."""
    found: Json = {}
    for _ in range(int(20 / POLL)):
        found = (await api.get(f"/v1/returns/{return_id}")).json()
        if found["status"] in statuses:
            return found
        await asyncio.sleep(POLL)
    pytest.fail(f"return {return_id} is {found.get('status')}, not one of {statuses}")


def table(page: httpx.Response, label: str) -> str:
    """The HTML of the page's table named `label`."""
    start = page.text.index(f'<table aria-label="{label}"')
    return page.text[start : page.text.index("</table>", start)]


async def test_support_approves_a_requested_return_from_the_list_and_it_awaits_its_parcel(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    manual: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await delivered(api, new_sku, order_body)
    asked = await ask_return(manual, order)
    async with agent(settings, sessions) as (client, actor):
        listed = await client.get("/console/returns")
        action = f"/console/returns/{asked['id']}/approve"
        fields = {"from": "returns", "key": uuid4().hex}
        sent = await post_form(client, "/console/returns", action, fields)
        answered = await client.get("/console/returns")
        done = await return_once(api, asked["id"], "awaiting_receipt")
        page = await client.get("/console/returns")

    assert asked["status"] == "requested"
    assert asked["id"] in table(listed, "Requested returns")
    assert action in POSTING.findall(listed.text)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/console/returns"
    assert f"Accepted: approve of return {asked['id']}." in answered.text
    assert [entry["status"] for entry in done["history"]][:2] == ["requested", "approved"]
    assert done["history"][1]["actor"] == actor
    waiting = table(page, "Returns awaiting receipt")
    assert asked["id"] in waiting
    assert done["label"]["tracking_number"] in waiting
    assert asked["id"] not in page.text[: page.text.index("Waiting for the parcel")]
    audited = [row for row in await audit_of(api, order["id"]) if row["action"] == "return_approve"]
    assert [(row["requested_by"], row["outcome"]) for row in audited] == [(actor, "accepted")]


async def test_a_decline_needs_a_reason_and_then_shows_it_in_the_returns_history(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    manual: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await delivered(api, new_sku, order_body)
    asked = await ask_return(manual, order)
    path = f"/console/returns/{asked['id']}"
    async with agent(settings, sessions, Role.OPS) as (client, _):
        seen = await client.get(path)
        fields = {"csrf": csrf_in(seen), "reason": "ops tries", "key": uuid4().hex}
        forged = await client.post(f"{path}/decline", data=fields)
    async with agent(settings, sessions) as (client, actor):
        await post_form(client, path, f"{path}/decline", {"reason": " ", "key": uuid4().hex})
        unsent = await client.get(path)
        fields = {"reason": "worn, not damaged", "key": uuid4().hex}
        sent = await post_form(client, path, f"{path}/decline", fields)
        answered = await client.get(path)
        await return_once(api, asked["id"], "declined")
        page = await client.get(path)
        listed = await client.get("/console/returns")

    assert seen.status_code == 200
    assert POSTING.findall(seen.text) == ["/console/logout"]  # ops reads, never decides
    assert forged.status_code == 403
    assert "Your role (ops) does not allow this (returns:decide)." in forged.text
    assert "Not sent: the decline form needs fixing." in unsent.text
    assert "reason: " in unsent.text
    assert sent.headers["location"] == path
    assert f"Accepted: decline of return {asked['id']}." in answered.text
    history = table(page, "History")
    assert "worn, not damaged" in history
    assert actor in history
    assert f"{path}/decline" not in POSTING.findall(page.text)  # decided: no more forms
    assert asked["id"] in table(listed, "Recently finished returns")


async def test_the_warehouse_receives_by_tracking_number_and_the_stock_and_money_come_back(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await delivered(api, new_sku, order_body)
    sku = order["lines"][0]["sku"]
    asked = await return_once(api, (await ask_return(api, order))["id"], "awaiting_receipt")
    tracking = asked["label"]["tracking_number"]
    async with agent(settings, sessions, Role.WAREHOUSE) as (client, actor):
        found = await client.get("/console/receiving", params={"q": tracking})
        action = f"/console/returns/{asked['id']}/receive"
        empty = {"sku": sku, "resellable": "", "damaged": "0", "key": uuid4().hex}
        await client.post(action, data={"csrf": csrf_in(found), **empty})
        unsent = await client.get(f"/console/receiving?q={tracking}")
        fields = {"sku": sku, "resellable": "3", "damaged": "", "key": uuid4().hex}
        await client.post(action, data={"csrf": csrf_in(found), **fields})
        refused = await client.get(f"/console/receiving?q={asked['id']}")
        fields = {"sku": sku, "resellable": "1", "damaged": "1", "key": uuid4().hex}
        sent = await client.post(action, data={"csrf": csrf_in(found), **fields})
        answered = await client.get(sent.headers["location"])
        done = await return_once(api, asked["id"], "completed")
        page = await client.get(f"/console/returns/{asked['id']}")

    assert found.status_code == 200
    assert action in POSTING.findall(found.text)
    assert f'aria-label="Resellable units of {sku}"' in found.text
    assert "Not sent: the receipt form needs fixing." in unsent.text
    assert "nothing received: enter the units that arrived" in unsent.text
    assert f"Refused: 3 × {sku} is more than expected: 2 asked back" in refused.text
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/console/receiving?q={asked['id']}"
    assert f"Accepted: received 1 × {sku} resellable, 1 × {sku} damaged." in answered.text
    assert (done["lines"][0]["resellable"], done["lines"][0]["damaged"]) == (1, 1)
    assert done["refund"]["amount"] == 3998  # both units came back: both at the price paid
    stock = await stock_of(api, sku)
    assert (stock["on_hand"], stock["damaged"]) == (8 + 1, 1)
    lines = table(page, "Lines")
    assert "1 resellable, 1 damaged" in lines
    assert 'data-testid="return-refund"' in page.text
    audited = [
        (row["outcome"], row["requested_by"])
        for row in await audit_of(api, order["id"])
        if row["action"] == "return_receive"
    ]
    assert audited == [("refused", actor), ("accepted", actor)]


async def test_support_cancels_a_return_before_its_parcel_arrives(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await delivered(api, new_sku, order_body)
    asked = await return_once(api, (await ask_return(api, order))["id"], "awaiting_receipt")
    path = f"/console/returns/{asked['id']}"
    async with agent(settings, sessions) as (client, actor):
        fields = {"reason": "the customer keeps it", "key": uuid4().hex}
        await post_form(client, path, f"{path}/cancel", fields)
        answered = await client.get(path)
        done = await return_once(api, asked["id"], "cancelled")

    assert f"Accepted: cancel of return {asked['id']}." in answered.text
    assert (done["history"][-1]["reason"], done["history"][-1]["actor"]) == (
        "the customer keeps it",
        actor,
    )


async def test_the_order_page_lists_its_returns_and_claims_and_the_warehouse_only_its_returns(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order = await delivered(api, new_sku, order_body)
    asked = await ask_return(api, order, quantity=1)
    body = {
        "type": "damaged_in_transit",
        "lines": [{"sku": order["lines"][0]["sku"], "quantity": 1}],
        "resolution": "store_credit",
    }
    headers = {"Idempotency-Key": str(uuid4())}
    claimed = await api.post(f"/v1/orders/{order['id']}/claims", json=body, headers=headers)
    assert claimed.status_code == 202, claimed.text
    claim = claimed.json()
    path = f"/console/orders/{order['id']}"
    async with agent(settings, sessions) as (client, _):
        page = await client.get(path)
        claim_page = await client.get(f"/console/returns/{claim['id']}")
    async with agent(settings, sessions, Role.WAREHOUSE) as (client, _):
        seen = await client.get(path)
        refused = await client.get(f"/console/returns/{claim['id']}")

    listed = table(page, "Returns and claims")
    assert f'href="/console/returns/{asked["id"]}"' in listed
    assert f'href="/console/returns/{claim["id"]}"' in listed
    assert "damaged in transit" in listed
    assert f"Claim <code>{claim['id']}</code>" in claim_page.text
    assert "19.99 EUR as store credit" in claim_page.text
    shown = table(seen, "Returns and claims")
    assert asked["id"] in shown
    assert claim["id"] not in shown
    assert refused.status_code == 403
    assert "Your role (warehouse) does not allow this (claims:read)." in refused.text


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.SUPPORT, "/console/returns", 200),
        (Role.OPS, "/console/returns", 200),
        (Role.WAREHOUSE, "/console/returns", 200),
        (Role.WAREHOUSE, "/console/receiving", 200),
        (Role.ADMIN, "/console/receiving", 200),
        (Role.SUPPORT, "/console/receiving", 403),
        (Role.OPS, "/console/receiving", 403),
    ],
)
async def test_the_returns_pages_open_for_the_roles_that_may_read_them(
    settings: Settings, sessions: SessionFactory, role: Role, path: str, status: int
) -> None:
    async with agent(settings, sessions, role) as (client, _):
        answer = await client.get(path)

    assert answer.status_code == status
    if status == 403:
        assert f"Your role ({role.value}) does not allow this (returns:receive)." in answer.text
    nav = answer.text[answer.text.index("<nav") : answer.text.index("</nav>")]
    assert ('href="/console/receiving"' in nav) == (role in (Role.WAREHOUSE, Role.ADMIN))
    assert 'href="/console/returns"' in nav


async def test_a_returns_page_without_a_session_redirects_to_the_login(
    settings: Settings,
) -> None:
    async with serve_console_api(settings) as client:
        answer = await client.get("/console/receiving?q=SR1")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Freceiving%3Fq%3DSR1"


async def test_support_may_not_receive_nor_the_warehouse_decide_even_by_a_forged_form(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with agent(settings, sessions, Role.SUPPORT) as (client, _):
        page = await client.get("/console/returns")
        fields = {"csrf": csrf_in(page), "sku": "X", "resellable": "1", "damaged": ""}
        receipt = await client.post("/console/returns/r-1/receive", data=fields)
    async with agent(settings, sessions, Role.WAREHOUSE) as (client, _):
        page = await client.get("/console/returns")
        approval = await client.post("/console/returns/r-1/approve", data={"csrf": csrf_in(page)})

    assert receipt.status_code == 403
    assert "(returns:receive)" in receipt.text
    assert approval.status_code == 403
    assert "(returns:decide)" in approval.text


async def test_an_unknown_return_is_a_404_page_and_an_unknown_parcel_is_said_so(
    settings: Settings, sessions: SessionFactory
) -> None:
    async with agent(settings, sessions, Role.ADMIN) as (client, _):
        page = await client.get("/console/returns/no-such-return")
        search = await client.get("/console/receiving", params={"q": "SR-NO-SUCH<b>"})

    assert page.status_code == 404
    assert "No return has the id <code>no-such-return</code>" in page.text
    assert (
        "No return has the tracking number or id <code>SR-NO-SUCH&lt;b&gt;</code>." in search.text
    )
