"""Managing webhook endpoints through the API: what is refused and why, what is shown (never a
secret after it was first given), and the security record of every change."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.console_users import SecurityEventRecord
from db.models import WebhookEndpointRecord
from db.session import SessionFactory

pytestmark = pytest.mark.integration
PUBLIC = "https://93.184.216.34/hooks"  # a public address: allowed without resolving a name


async def create(api: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await api.post("/v1/webhook-endpoints", json={"url": PUBLIC, "events": ["*"]} | body)


async def test_an_endpoint_is_created_with_a_secret_shown_once_and_sealed_at_rest(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    created = await create(api, events=["order.shipped", "order.shipped", "refund.failed"])
    endpoint = created.json()
    shown = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}")
    listed = await api.get("/v1/webhook-endpoints")
    async with sessions() as session:
        stored = await session.get_one(WebhookEndpointRecord, endpoint["id"])
        audited = (
            await session.scalars(
                select(SecurityEventRecord.kind).where(
                    SecurityEventRecord.detail.startswith(endpoint["id"])
                )
            )
        ).all()

    assert created.status_code == 201
    assert created.headers["location"] == f"/v1/webhook-endpoints/{endpoint['id']}"
    assert endpoint["events"] == ["order.shipped", "refund.failed"]  # each once
    assert endpoint["disabled"] is False
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in shown.json()
    assert all("secret" not in item for item in listed.json()["items"])
    assert endpoint["secret"].removeprefix("whsec_") not in stored.secret  # sealed
    assert stored.secret.startswith("v1.")
    assert audited == ["webhook_created"]


async def test_a_subscription_to_an_unknown_type_names_it(api: httpx.AsyncClient) -> None:
    refused = await create(api, events=["order.shipped", "order.teleported"])

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "events", 1]


async def test_no_subscription_at_all_is_refused(api: httpx.AsyncClient) -> None:
    refused = await create(api, events=[])

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "events"]


async def test_a_change_applies_only_what_it_names_and_is_recorded(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    endpoint = (await create(api, description="the CRM")).json()

    changed = await api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json={"events": ["order.created", "*"]}
    )
    disabled = await api.patch(f"/v1/webhook-endpoints/{endpoint['id']}", json={"disabled": True})
    bad_url = await api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json={"url": "https://10.0.0.7/x"}
    )
    async with sessions() as session:
        kinds = (
            await session.scalars(
                select(SecurityEventRecord.kind).where(
                    SecurityEventRecord.detail.startswith(endpoint["id"])
                )
            )
        ).all()

    assert changed.json()["events"] == ["*"]  # everything, whatever else was named
    assert changed.json()["description"] == "the CRM"
    assert disabled.json()["disabled"] is True
    assert disabled.json()["disabled_reason"].startswith("disabled by key:")
    assert bad_url.status_code == 422
    assert bad_url.json()["detail"][0]["loc"] == ["body", "url"]
    assert "private" in bad_url.json()["detail"][0]["msg"]
    assert (await api.get(f"/v1/webhook-endpoints/{endpoint['id']}")).json()["url"] == PUBLIC
    assert sorted(kinds) == ["webhook_changed", "webhook_changed", "webhook_created"]


async def test_a_deleted_endpoint_is_gone_from_every_read_and_change(
    api: httpx.AsyncClient,
) -> None:
    endpoint = (await create(api)).json()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"

    deleted = await api.delete(path)

    assert deleted.status_code == 204
    assert (await api.get(path)).status_code == 404
    assert (await api.patch(path, json={"description": "x"})).status_code == 404
    assert (await api.post(f"{path}/rotate-secret")).status_code == 404
    assert (await api.get(f"{path}/deliveries")).status_code == 404
    assert (await api.delete(path)).status_code == 404


async def test_a_disabled_endpoint_cannot_be_replayed_to(api: httpx.AsyncClient) -> None:
    endpoint = (await create(api)).json()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    await api.patch(path, json={"disabled": True})

    refused = await api.post(f"{path}/replay", json={"since": "2026-01-01T00:00:00Z"})
    naive = await api.post(f"{path}/replay", json={"since": "2026-01-01T00:00:00"})

    assert refused.status_code == 409
    assert "disabled" in refused.json()["detail"]
    assert naive.status_code == 422  # a moment without its offset is not a moment


async def test_an_unknown_delivery_cannot_be_retried(api: httpx.AsyncClient) -> None:
    answer = await api.post("/v1/webhook-deliveries/dlv_nothing/retry")

    assert answer.status_code == 404
