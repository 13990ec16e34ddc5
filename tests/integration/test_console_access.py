"""Who may do what at the console, by httpx: log in first, the role's scopes, CSRF tokens on every
state change, and the security headers of every console response."""

import re
from pathlib import Path

import httpx
import pytest

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.console import csrf_in, log_in_http, make_user, serve_console_api
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.storefront import place
from tests.harness.support import audit_of, order_of

pytestmark = pytest.mark.integration

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "console" / "templates"
POSTING = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')


async def test_a_console_page_without_a_session_redirects_to_the_login_with_the_way_back(
    settings: Settings,
) -> None:
    async with serve_console_api(settings) as client:
        answer = await client.get("/console/orders/o-1?tab=audit")

    assert answer.status_code == 303
    assert (
        answer.headers["location"] == "/console/login?next=%2Fconsole%2Forders%2Fo-1%3Ftab%3Daudit"
    )


async def test_an_api_key_does_not_open_the_console(
    settings: Settings, role_keys: dict[Role, str]
) -> None:
    async with serve_console_api(settings) as client:
        answer = await client.get(
            "/console", headers={"Authorization": f"Bearer {role_keys[Role.ADMIN]}"}
        )

    assert answer.status_code == 303


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.WAREHOUSE, "/console/users"),
        (Role.SUPPORT, "/console/users"),
        (Role.OPS, "/console/users"),
    ],
)
async def test_a_page_the_role_lacks_the_scope_for_is_a_403_page(
    settings: Settings, sessions: SessionFactory, role: Role, path: str
) -> None:
    user = await make_user(sessions, role)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        answer = await client.get(path)

    assert answer.status_code == 403
    assert f"Your role ({role.value}) does not allow this (users:manage)." in answer.text


async def test_ops_sees_an_order_without_any_form_and_cannot_post_one(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))
    user = await make_user(sessions, Role.OPS)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        page = await client.get(f"/console/orders/{order_id}")
        fields = {"csrf": csrf_in(page), "reason": "ops tries anyway"}
        cancel = await client.post(f"/console/orders/{order_id}/cancel", data=fields)

    assert page.status_code == 200
    assert POSTING.findall(page.text) == ["/console/logout"]  # no action form, only log out
    assert "Audit trail" in page.text  # ops reads audit
    assert cancel.status_code == 403
    assert "does not allow this (orders:cancel)" in cancel.text
    assert await audit_of(api, order_id) == []


async def test_warehouse_sees_an_order_without_forms_or_its_audit_trail(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))
    user = await make_user(sessions, Role.WAREHOUSE)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        page = await client.get(f"/console/orders/{order_id}")

    assert page.status_code == 200
    assert POSTING.findall(page.text) == ["/console/logout"]
    assert "Audit trail" not in page.text
    assert 'href="/console/inventory"' in page.text


@pytest.mark.parametrize("token", [None, "", "0" * 64, "stale"])
async def test_an_order_form_without_the_sessions_csrf_token_is_a_403_and_changes_nothing(
    settings: Settings,
    sessions: SessionFactory,
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    token: str | None,
) -> None:
    order_id = await place(api, order_body(await new_sku(0)))
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        await log_in_http(client, user.username, user.password)
        page = await client.get(f"/console/orders/{order_id}")
        if token == "stale":  # the page's token, from before logging in again
            token = csrf_in(page)
            await log_in_http(client, user.username, user.password)
        fields = {"reason_code": "fraud_review", "key": "a" * 32}
        sent = await client.post(
            f"/console/orders/{order_id}/hold",
            data=fields | ({"csrf": token} if token is not None else {}),
        )

    assert sent.status_code == 403
    assert "This form is out of date or was not sent from the console" in sent.text
    assert await audit_of(api, order_id) == []
    assert (await order_of(api, order_id))["status"] == "pending"


CONSOLE_PAGES = ["/console/login", "/console", "/console/static/console.css"]


@pytest.mark.parametrize("path", [*CONSOLE_PAGES, "/console/orders/no-such", "/console/users"])
async def test_every_console_answer_carries_the_security_headers(
    settings: Settings, sessions: SessionFactory, path: str
) -> None:
    user = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as client:
        anonymous = await client.get(path)
        await log_in_http(client, user.username, user.password)
        known = await client.get(path)

    for answer in (anonymous, known):
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'none'" in policy  # no script at all, from anywhere
        assert "unsafe-inline" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"


async def test_the_api_answers_without_the_consoles_headers(api: httpx.AsyncClient) -> None:
    answer = await api.get("/healthz")

    assert "content-security-policy" not in answer.headers


def test_no_template_holds_an_inline_script_or_style() -> None:
    inline = re.compile(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)

    offenders = {path.name: inline.findall(path.read_text()) for path in TEMPLATES.glob("*.html")}

    assert {name: found for name, found in offenders.items() if found} == {}
