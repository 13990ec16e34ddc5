"""Text a support action carries reaches PostgreSQL only through the order's workflow, after the
answer. Text PostgreSQL cannot store (NUL) must therefore be refused up front with a 422 naming
the field: accepted, it would make the workflow retry its record forever, the order stuck."""

import httpx
import pytest
from temporalio.worker import Worker

from settings import Settings
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status
from tests.harness.support import AGENT, NEW_ADDRESS, placed_and_held_for_review

pytestmark = pytest.mark.integration

NUL = "held\x00back"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Orders wait on a payment review once reserved: every action applies to them."""
    return settings.model_copy(update={"payment_review_above": 0})


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("cancel", {"reason": NUL, "requested_by": AGENT}, ["reason"]),
        ("cancel", {"reason": "fraud", "requested_by": NUL}, ["requested_by"]),
        ("hold", {"reason_code": "fraud_review", "note": NUL, "requested_by": AGENT}, ["note"]),
        ("release", {"note": NUL, "requested_by": AGENT}, ["note"]),
        ("changes", {"reason": NUL, "requested_by": AGENT}, ["reason"]),
        (
            "changes",
            {"shipping_address": {**NEW_ADDRESS, "line1": NUL}, "requested_by": AGENT},
            ["shipping_address", "line1"],
        ),
    ],
)
async def test_nul_in_a_support_action_is_a_422_and_the_order_carries_on(
    api: httpx.AsyncClient,
    worker: Worker,
    new_sku: MakeSku,
    order_body: MakeOrderBody,
    action: str,
    body: dict[str, object],
    field: list[str],
) -> None:
    order_id = await placed_and_held_for_review(api, order_body(await new_sku(5)))

    answer = await api.post(f"/v1/orders/{order_id}/{action}", json=body)

    assert answer.status_code == 422, answer.text
    assert ["body", *field] in [error["loc"] for error in answer.json()["detail"]]
    cancel = {"reason": "customer asked", "requested_by": AGENT}
    assert (await api.post(f"/v1/orders/{order_id}/cancel", json=cancel)).status_code == 202
    await wait_for_status(api, order_id, "cancelled", within=10)
