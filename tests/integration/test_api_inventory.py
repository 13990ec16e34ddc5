"""Stock through the API: counts, adjustments, their movements, and the reserved floor."""

from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from db.models import MovementRecord
from db.session import SessionFactory
from db.stock import StockRepository, Wanted
from security.roles import Role
from tests.harness.keys import ACTORS
from tests.harness.orders import MakeSku

pytestmark = pytest.mark.integration


def fresh_sku() -> str:
    return f"SKU-{uuid4().hex[:12].upper()}"


async def movements(sessions: SessionFactory, sku: str) -> list[tuple[int, str, str, str | None]]:
    """(delta, reason, actor, label) of the SKU's movements, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(MovementRecord).where(MovementRecord.sku == sku).order_by(MovementRecord.id)
        )
        return [(row.delta, row.reason, row.actor, row.label) for row in rows]


async def reserve(sessions: SessionFactory, sku: str, quantity: int) -> None:
    async with sessions.begin() as session:
        assert (
            await StockRepository(session).reserve(
                f"o-{uuid4()}", [Wanted(sku=sku, quantity=quantity)]
            )
            == []
        )


async def test_a_count_creates_a_new_sku_and_reads_back(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    sku = fresh_sku()

    counted = await api.put(f"/v1/inventory/{sku}", json={"on_hand": 10})
    read = await api.get(f"/v1/inventory/{sku}")

    expected = {"sku": sku, "on_hand": 10, "reserved": 0, "available": 10, "damaged": 0}
    assert (counted.status_code, counted.json()) == (200, expected)
    assert (read.status_code, read.json()) == (200, expected)
    assert await movements(sessions, sku) == [(10, "stock count", ACTORS[Role.ADMIN], None)]


async def test_a_recount_is_a_movement_of_the_difference_by_the_caller_labelled_by_x_actor(
    api: httpx.AsyncClient, new_sku: MakeSku, sessions: SessionFactory
) -> None:
    sku = await new_sku(10)

    answer = await api.put(
        f"/v1/inventory/{sku}", json={"on_hand": 7}, headers={"X-Actor": "clerk-3"}
    )

    assert answer.json()["on_hand"] == 7
    assert (await movements(sessions, sku))[-1] == (
        -3,
        "stock count",
        ACTORS[Role.ADMIN],
        "clerk-3",
    )


async def test_an_adjustment_adds_to_on_hand_with_its_reason(
    api: httpx.AsyncClient, new_sku: MakeSku, sessions: SessionFactory
) -> None:
    sku = await new_sku(10)
    await reserve(sessions, sku, 4)

    answer = await api.post(
        f"/v1/inventory/{sku}/adjustments", json={"delta": 5, "reason": "receipt"}
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "sku": sku,
        "on_hand": 15,
        "reserved": 4,
        "available": 11,
        "damaged": 0,
    }
    assert (await movements(sessions, sku))[-1] == (5, "receipt", ACTORS[Role.ADMIN], None)


async def test_stock_cannot_go_below_what_is_reserved(
    api: httpx.AsyncClient, new_sku: MakeSku, sessions: SessionFactory
) -> None:
    sku = await new_sku(10)
    await reserve(sessions, sku, 6)

    counted = await api.put(f"/v1/inventory/{sku}", json={"on_hand": 5})
    adjusted = await api.post(
        f"/v1/inventory/{sku}/adjustments", json={"delta": -5, "reason": "shrinkage"}
    )

    assert (counted.status_code, adjusted.status_code) == (409, 409)
    assert "reserved" in counted.json()["detail"]
    assert "reserved" in adjusted.json()["detail"]
    assert (await api.get(f"/v1/inventory/{sku}")).json()["on_hand"] == 10
    assert len(await movements(sessions, sku)) == 1  # only the initial count


async def test_an_unknown_sku_answers_404(api: httpx.AsyncClient) -> None:
    sku = fresh_sku()

    read = await api.get(f"/v1/inventory/{sku}")
    adjusted = await api.post(
        f"/v1/inventory/{sku}/adjustments", json={"delta": 1, "reason": "receipt"}
    )

    assert (read.status_code, adjusted.status_code) == (404, 404)
    assert sku in read.json()["detail"]


@pytest.mark.parametrize(
    ("method", "suffix", "body", "loc"),
    [
        ("PUT", "", {"on_hand": -1}, ["body", "on_hand"]),
        ("PUT", "", {"on_hand": 2.5}, ["body", "on_hand"]),
        ("PUT", "", {}, ["body", "on_hand"]),
        ("POST", "/adjustments", {"delta": 1}, ["body", "reason"]),
        ("POST", "/adjustments", {"delta": "1", "reason": "receipt"}, ["body", "delta"]),
    ],
)
async def test_bad_stock_input_answers_422(
    api: httpx.AsyncClient,
    new_sku: MakeSku,
    method: str,
    suffix: str,
    body: dict[str, object],
    loc: list[str],
) -> None:
    sku = await new_sku(1)

    answer = await api.request(method, f"/v1/inventory/{sku}{suffix}", json=body)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == loc


async def test_a_sku_longer_than_the_column_answers_422(api: httpx.AsyncClient) -> None:
    answer = await api.put(f"/v1/inventory/{'X' * 65}", json={"on_hand": 1})

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["path", "sku"]
