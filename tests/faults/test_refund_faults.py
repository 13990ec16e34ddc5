"""A fault during refunds: the worker killed while refunds are at the gateway, in a module of
its own so `make test`'s two processes can each take one of the fault modules."""

import pytest

from tests.harness.shop import Shop

pytestmark = pytest.mark.faults

# A killed worker's activities are retried only after their start_to_close timeout (30 s for the
# outside world), so allow for that plus a few retries.
RECOVERY = 120.0
REFUNDS = 3  # per moment of the kill: after the gateway refunded, and during its call
REFUND = 1999  # one unit of each order
SLOW_GATEWAY = {"OMS_SIM_STEP_LATENCY": "PT2S"}  # each gateway call takes 2 s


async def test_a_worker_killed_during_refunds_refunds_each_once_with_one_credit_note(
    shop: Shop,
) -> None:
    """SIGKILL the worker while refunds are at the gateway; a new one finishes every refund once.

    It dies at both moments that matter: for REFUNDS refunds the gateway has refunded but the OMS
    has not booked it (their payment rows are held locked, so the activity waits right there),
    and REFUNDS more are inside the gateway's slow call. The replacement retries each activity
    (after its 30 s start_to_close timeout: the activity does not heartbeat), and the gateway's
    idempotency key `{refund_id}:refund` must turn a retry into the first answer: one refund at
    the gateway, one credit note, `succeeded`, and the books sound (DUPLICATE and the money
    invariants of db/money_invariants.py).
    """
    first = shop.stack.start_worker()
    ids = await shop.place(2 * REFUNDS)
    await shop.all_finished(ids, within=60)
    shop.stack.kill_worker(first)  # idle now: the refunds wait for the slow worker below
    after, during = ids[:REFUNDS], ids[REFUNDS:]

    refunded_first = await shop.refund(after, REFUND)  # claimed under the payment row's lock
    async with shop.payments_locked(after):
        slow = shop.stack.start_worker(SLOW_GATEWAY)
        await shop.until(lambda: _refunded(shop, after), "the gateway refunds", within=30)
        at_the_gateway = await shop.refund(during, REFUND)
        await shop.refunds_at_the_gateway(at_the_gateway, within=10)
        shop.stack.kill_worker(slow)
    assert await shop.gateway_refunds(during) == {}, "the gateway was not slow enough: no fault"
    shop.stack.start_worker()
    refunds = refunded_first + at_the_gateway

    statuses = await shop.refunds_finished(refunds, within=RECOVERY)
    assert statuses == {"succeeded": len(refunds)}
    assert await shop.gateway_refunds(ids) == {f"{refund}:refund": 1 for refund in refunds}
    assert await shop.credit_notes(ids) == dict.fromkeys(refunds, 1)
    await shop.assert_all_completed_and_sound(ids)


async def _refunded(shop: Shop, order_ids: list[str]) -> bool:
    return len(await shop.gateway_refunds(order_ids)) == len(order_ids)
