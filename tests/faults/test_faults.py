"""Faults while orders are in flight: every order still completes, once, and the books balance.

Each test runs PostgreSQL, Temporal (state on disk) and `python worker.py` as real processes of
its own, places ORDERS orders through the API, breaks something once they move, and then asks
for every order `completed` and every invariant of db/invariants.py to hold.
"""

import pytest

from tests.harness.shop import Shop

pytestmark = pytest.mark.faults

ORDERS = 50
LATE_ORDERS = 5  # placed after the fault, through the same API process
DOWN = 3.0  # seconds a server stays down
# A killed worker's activities are retried only after their start_to_close timeout (30 s for the
# outside world), so allow for that plus a few retries.
RECOVERY = 120.0


async def test_a_worker_killed_mid_flight_is_replaced_and_nothing_is_lost_or_doubled(
    shop: Shop,
) -> None:
    """SIGKILL the only worker while orders move; a new one finishes every order, exactly once.

    `in_flight` fails the test if every order finished before the kill (nothing tested).
    What `assert_all_completed_and_sound` proves, by db/invariants.py's names:
    - every order completed: the API says so of each, and NOT_TERMINAL finds none unfinished;
    - one authorization and one capture of its total per order, no void: COMPLETED_INCOMPLETE,
      and DUPLICATE (per order and kind at the gateway);
    - one label and one shipment per order: COMPLETED_INCOMPLETE, DUPLICATE;
    - stock booked out exactly once: on_hand is ON_HAND less what was ordered and nothing stays
      reserved (through the API); ON_HAND_MISMATCH (on_hand is the sum of the movements),
      RESERVED_MISMATCH, BOOK_OUT_MISMATCH (each order's book-out is what it shipped) and
      DUPLICATE (one book-out movement per order and SKU).
    The invariants let a completed order carry `adjust` payments (a change adjusts the
    authorization); no order here changes, so the gateway must hold nothing else.
    """
    first = shop.stack.start_worker()
    ids = await shop.place(ORDERS)
    await shop.in_flight(ids)

    shop.stack.kill_worker(first)
    shop.stack.start_worker()

    await shop.all_finished(ids, within=RECOVERY)
    await shop.assert_all_completed_and_sound(ids)
    assert await shop.gateway_calls(ids) == {"authorize": ORDERS, "capture": ORDERS}


async def test_temporal_restarted_mid_flight_is_ridden_out_by_the_worker_and_the_api(
    shop: Shop,
) -> None:
    shop.stack.start_worker()
    ids = await shop.place(ORDERS)
    await shop.in_flight(ids)

    await shop.stack.restart_temporal(down=DOWN)
    ids += await shop.place(LATE_ORDERS)  # the API's client reconnects by itself

    await shop.all_finished(ids, within=RECOVERY)
    await shop.assert_all_completed_and_sound(ids)


async def test_postgres_restarted_mid_flight_makes_activities_retry_not_fail(shop: Shop) -> None:
    shop.stack.start_worker()
    ids = await shop.place(ORDERS)
    await shop.in_flight(ids)

    await shop.stack.restart_postgres(down=DOWN)
    ids += await shop.place(LATE_ORDERS)  # the API's pool drops its dead connections

    await shop.all_finished(ids, within=RECOVERY)
    await shop.assert_all_completed_and_sound(ids)
    assert "OperationalError" in shop.stack.worker_logs()[0], "no activity met the outage"


@pytest.mark.parametrize("world", [{"OMS_SIM_FAILURE_RATE": "0.3"}])
async def test_a_flaky_outside_world_still_completes_every_order(shop: Shop) -> None:
    shop.stack.start_worker()
    ids = await shop.place(ORDERS)
    await shop.in_flight(ids)

    # Each outside call fails 30% of the time and is retried after 1, 2, 4 ... 30 s: an unlucky
    # call failing 8 times in a row costs 2 minutes, so the bound is wider here.
    await shop.all_finished(ids, within=240)
    await shop.assert_all_completed_and_sound(ids)
    outages = shop.stack.worker_logs()[0].count("SimulatedOutage:")
    assert outages > ORDERS // 2, f"only {outages} simulated outages: the world was not flaky"
