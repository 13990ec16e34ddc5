"""Cancelling through the API: the workflow's own refusal, a closed workflow, one not started."""

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from temporalio.worker import Worker

from settings import Settings
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status
from tests.harness.servers import place_while_temporal_is_down, serve_api

pytestmark = pytest.mark.integration

CANCEL = {"reason": "customer changed their mind", "requested_by": "agent-7"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The parcel takes a while: long enough to ask for a cancellation while it is on its way."""
    return settings.model_copy(update={"sim_delivery_delay": timedelta(seconds=30)})


async def test_cancelling_a_shipped_order_answers_409_with_the_workflows_reason(
    api: httpx.AsyncClient, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody
) -> None:
    placed = await api.post("/v1/orders", json=order_body(await new_sku(5)))
    order_id = placed.json()["id"]
    await wait_for_status(api, order_id, "shipped")

    answer = await api.post(f"/v1/orders/{order_id}/cancel", json=CANCEL)

    assert answer.status_code == 409
    assert "too late to cancel" in answer.json()["detail"]
    assert (await api.get(f"/v1/orders/{order_id}")).json()["status"] == "shipped"


async def test_cancelling_a_finished_order_answers_409_with_its_status(
    settings: Settings, worker: Worker, new_sku: MakeSku, order_body: MakeOrderBody, admin_key: str
) -> None:
    async with serve_api(settings, admin_key) as api:
        sku = await new_sku(0)  # backordered, then cancelled: the quickest way to a closed order
        placed = await api.post("/v1/orders", json=order_body(sku))
        order_id = placed.json()["id"]
        await wait_for_status(api, order_id, "backordered")
        assert (await api.post(f"/v1/orders/{order_id}/cancel", json=CANCEL)).status_code == 202
        await wait_for_status(api, order_id, "cancelled")

        answer = await api.post(f"/v1/orders/{order_id}/cancel", json=CANCEL)

    assert answer.status_code == 409
    assert answer.json()["detail"] == "order is already cancelled"


async def test_cancelling_an_order_whose_workflow_never_started_answers_503(
    settings: Settings, new_sku: MakeSku, order_body: MakeOrderBody, admin_key: str
) -> None:
    refused = await place_while_temporal_is_down(settings, admin_key, order_body(await new_sku(5)))
    async with serve_api(settings, admin_key) as api:
        answer = await api.post(f"/v1/orders/{refused.json()['order_id']}/cancel", json=CANCEL)

    assert answer.status_code == 503
    assert "retry" in answer.json()["detail"]
    assert answer.headers["retry-after"]


async def test_a_cancel_request_without_a_reason_answers_422(api: httpx.AsyncClient) -> None:
    answer = await api.post(f"/v1/orders/{uuid4()}/cancel", json={"requested_by": "agent-7"})

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]
