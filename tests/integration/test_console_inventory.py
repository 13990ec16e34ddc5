"""The console's inventory by httpx: finding SKUs, a SKU's stock and movements, and adjusting it
as the logged-in warehouse user (only they, and admins, may)."""

import re

import httpx
import pytest

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import csrf_in, log_in_http, make_user, post_form, serve_console_api
from tests.harness.orders import MakeSku
from tests.harness.support import stock_of

pytestmark = pytest.mark.integration

ADJUST = re.compile(r'action="(/console/inventory/[^"]+/adjustments)"')


async def test_a_prefix_finds_skus_in_any_case_with_their_stock(
    settings: Settings, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    sku = await new_sku(7)
    user = await make_user(sessions, Role.OPS)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        found = await client.get("/console/inventory", params={"q": sku[:10].lower()})
        none = await client.get("/console/inventory", params={"q": "NO-SUCH-PREFIX-%_"})

    assert found.status_code == 200
    assert f'href="/console/inventory/{sku}">{sku}</a>' in found.text
    assert "No SKUs match." in none.text


async def test_a_warehouse_adjustment_is_a_movement_by_the_user_with_its_reason(
    settings: Settings, sessions: SessionFactory, api: httpx.AsyncClient, new_sku: MakeSku
) -> None:
    sku = await new_sku(5)
    user = await make_user(sessions, Role.WAREHOUSE)
    page_path = f"/console/inventory/{sku}"
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        fields = {"delta": "-2", "reason": "damaged in the aisle", "shown": "5"}
        sent = await post_form(client, page_path, f"{page_path}/adjustments", fields)
        page = await client.get(page_path)

    assert sent.status_code == 303
    assert "Accepted: -2. On hand is 3 now." in page.text
    assert "damaged in the aisle" in page.text
    assert f"user:{user.username}" in page.text
    assert (await stock_of(api, sku))["on_hand"] == 3


async def test_an_adjustment_of_stock_that_moved_since_the_page_was_shown_is_refused(
    settings: Settings, sessions: SessionFactory, api: httpx.AsyncClient, new_sku: MakeSku
) -> None:
    sku = await new_sku(5)
    user = await make_user(sessions, Role.WAREHOUSE)
    page_path = f"/console/inventory/{sku}"
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        token = csrf_in(await client.get(page_path))
        fields = {"csrf": token, "delta": "+3", "reason": "receipt", "shown": "5"}
        first = await client.post(f"{page_path}/adjustments", data=fields)
        twice = await client.post(f"{page_path}/adjustments", data=fields)  # a double click
        page = await client.get(page_path)

    assert first.status_code == twice.status_code == 303
    assert "Refused: on hand is 8 now, not 5" in page.text
    assert (await stock_of(api, sku))["on_hand"] == 8


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"delta": "lots", "reason": "x", "shown": "5"}, "lots is not a whole number other than 0"),
        ({"delta": "0", "reason": "x", "shown": "5"}, "0 is not a whole number other than 0"),
        ({"delta": "-9", "reason": "recount", "shown": "5"}, "below the 0 reserved"),
    ],
)
async def test_an_adjustment_the_stock_cannot_take_says_why(
    settings: Settings,
    sessions: SessionFactory,
    new_sku: MakeSku,
    fields: dict[str, str],
    problem: str,
) -> None:
    sku = await new_sku(5)
    user = await make_user(sessions, Role.ADMIN)
    page_path = f"/console/inventory/{sku}"
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        await post_form(client, page_path, f"{page_path}/adjustments", fields)
        page = await client.get(page_path)

    assert problem in page.text


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.OPS])
async def test_a_role_that_may_only_read_stock_gets_no_form_and_a_403_if_it_posts(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    role: Role,
) -> None:
    sku = await new_sku(5)
    user = await make_user(sessions, role)
    page_path = f"/console/inventory/{sku}"
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        page = await client.get(page_path)
        fields = {"csrf": csrf_in(page), "delta": "100", "reason": "x", "shown": "5"}
        sent = await client.post(f"{page_path}/adjustments", data=fields)

    assert page.status_code == 200
    assert ADJUST.findall(page.text) == []
    assert sent.status_code == 403
    assert (await stock_of(api, sku))["on_hand"] == 5


async def test_an_unknown_sku_is_a_404_page(settings: Settings, sessions: SessionFactory) -> None:
    user = await make_user(sessions, Role.WAREHOUSE)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        answer = await client.get("/console/inventory/NO-SUCH-SKU")

    assert answer.status_code == 404
    assert "No SKU has the id <code>NO-SUCH-SKU</code>" in answer.text
