"""API keys end to end: issued, used, expired, revoked; never shown twice, never stored plain."""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from db.session import SessionFactory
from security.roles import Role
from settings import Settings
from tests.harness.keys import bearer, issue_key
from tests.harness.orders import MakeOrderBody, MakeSku
from tests.harness.servers import serve_api

pytestmark = pytest.mark.integration

NEW_KEY = {"name": "shop-eu", "role": "storefront", "channel": "eu"}


def refused(answer: httpx.Response, detail: str) -> None:
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert detail in answer.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "an API key is required"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "an API key is required"),
        ({"Authorization": "Bearer "}, "an API key is required"),
        ({"Authorization": "Bearer not-a-key"}, "malformed API key"),
        ({"Authorization": "Bearer oms_sk_" + "A" * 43}, "unknown API key"),
    ],
    ids=["missing", "another scheme", "empty", "malformed", "unknown"],
)
async def test_a_request_without_a_key_we_issued_answers_401_and_says_why(
    settings: Settings, headers: dict[str, str], detail: str
) -> None:
    async with serve_api(settings) as anonymous:
        refused(await anonymous.get("/v1/orders", headers=headers), detail)


async def test_a_created_key_works_at_once_and_its_secret_is_shown_only_then(
    api: httpx.AsyncClient, sessions: SessionFactory, new_sku: MakeSku
) -> None:
    created = await api.post("/v1/api-keys", json=NEW_KEY)

    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("oms_sk_")
    assert len(key["key"]) == 50
    assert (key["name"], key["role"], key["channel"]) == ("shop-eu", "storefront", "eu")
    assert (key["expires_at"], key["last_used_at"]) == (None, None)
    sku = await new_sku(1)
    assert (await api.get(f"/v1/inventory/{sku}", headers=bearer(key["key"]))).status_code == 200
    listed = (await api.get("/v1/api-keys")).json()["items"]
    [mine] = [k for k in listed if k["id"] == key["id"]]
    assert "key" not in mine
    assert mine["last_used_at"] is not None  # written on its first use
    assert key["key"] not in (await api.get("/v1/api-keys")).text
    async with sessions() as session:  # only its keyed hash is stored, nowhere the key itself
        dump = await session.scalar(text("SELECT string_agg(t::text, ' ') FROM api_keys t"))
    assert dump is not None
    assert key["id"] in dump
    assert key["key"] not in dump


async def test_a_revoked_key_is_refused_from_the_next_request_on(
    api: httpx.AsyncClient, sessions: SessionFactory, settings: Settings
) -> None:
    key = (await api.post("/v1/api-keys", json={"name": "temp", "role": "ops"})).json()
    assert (await api.get("/v1/orders", headers=bearer(key["key"]))).status_code == 200

    revoked = await api.delete(f"/v1/api-keys/{key['id']}")

    assert revoked.status_code == 204
    refused(await api.get("/v1/orders", headers=bearer(key["key"])), "revoked")
    assert (await api.delete(f"/v1/api-keys/{key['id']}")).status_code == 204  # idempotent
    assert key["id"] not in [k["id"] for k in (await api.get("/v1/api-keys")).json()["items"]]
    async with serve_api(settings) as other_process:  # nothing cached anywhere
        refused(await other_process.get("/v1/orders", headers=bearer(key["key"])), "revoked")


async def test_an_expired_key_is_refused(
    api: httpx.AsyncClient, sessions: SessionFactory, settings: Settings
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    key = await issue_key(sessions, settings, Role.OPS, expires_at=soon)
    assert (await api.get("/v1/orders", headers=bearer(key))).status_code == 200

    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.05)

    refused(await api.get("/v1/orders", headers=bearer(key)), "expired")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x", "role": "storefront"}, ["body", "channel"]),
        ({"name": "x", "role": "support", "channel": "eu"}, ["body", "channel"]),
        ({"name": "x", "role": "root"}, ["body", "role"]),
        (
            {"name": "x", "role": "ops", "expires_at": "2020-01-01T00:00:00Z"},
            ["body", "expires_at"],
        ),
        ({"role": "ops"}, ["body", "name"]),
    ],
    ids=["storefront without channel", "channel on support", "unknown role", "past", "no name"],
)
async def test_a_key_that_cannot_be_is_refused_with_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, str], loc: list[str]
) -> None:
    answer = await api.post("/v1/api-keys", json=body)

    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [loc]


async def test_revoking_a_key_that_does_not_exist_answers_404(api: httpx.AsyncClient) -> None:
    assert (await api.delete("/v1/api-keys/key_nope")).status_code == 404


async def test_a_key_over_its_rate_limit_gets_429_with_retry_after(
    settings: Settings, role_keys: dict[Role, str]
) -> None:
    limited = settings.model_copy(update={"rate_limit": "3/minute"})
    async with serve_api(limited) as api:
        answers = [
            (await api.get("/v1/orders", headers=bearer(role_keys[Role.OPS]))).status_code
            for _ in range(4)
        ]
        other = await api.get("/v1/orders", headers=bearer(role_keys[Role.SUPPORT]))
        last = await api.get("/v1/orders", headers=bearer(role_keys[Role.OPS]))

    assert answers == [200, 200, 200, 429]
    assert other.status_code == 200  # per key: another key is not slowed
    assert 1 <= int(last.headers["retry-after"]) <= 60


async def test_no_key_reaches_the_logs(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = (await api.post("/v1/api-keys", json=NEW_KEY)).json()["key"]
    await api.get("/v1/orders", headers=bearer(key))
    await api.get("/v1/orders", headers=bearer(key[:-1] + "x"))  # a refused one too

    assert key not in caplog.text
    assert key[:-1] not in caplog.text


async def test_a_body_over_the_cap_is_refused_with_413_before_anything_reads_it(
    api: httpx.AsyncClient,
) -> None:
    huge = b'{"name": "' + b"x" * (1024 * 1024) + b'", "role": "ops"}'

    declared = await api.post("/v1/api-keys", content=huge)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    streamed = await api.post("/v1/api-keys", content=stream())

    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert "larger than 1048576 bytes" in declared.json()["detail"]
    assert huge[10:20].decode() not in (await api.get("/v1/api-keys")).text
