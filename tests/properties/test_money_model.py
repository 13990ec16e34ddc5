"""The money side over real HTTP with the real worker, against a model, in random interleavings.

Orders paid by card, card and store credit, or credit alone (some with `tok_refund_declined`,
whose card refunds fail); some wait on backorder, to be cancelled or restocked; refunds of
completed orders by units or by sums, to the card or as store credit, one at a time or two at
once, many of them at the edge of what can be refunded (the model says which must be a 409, and
why); goodwill credit. After every step the API agrees with the model (balances, each order's
payment and refunds) and db/invariants.py finds nothing wrong with the run's orders.

Hypothesis runs the machine synchronously, so it runs in a thread of its own; every request and
every check is a coroutine run on the test's loop, where the API server and the worker run too.
"""

import asyncio
from collections import Counter

SEEN: Counter[str] = Counter()
import time
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, ClassVar, TypeVar
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from temporalio.worker import Worker

from db.invariants import check
from db.session import SessionFactory
from settings import Settings
from tests.factories import make_order_body
from tests.harness.storefront import stock
from tests.properties.money_model import (
    CARD,
    CREDIT,
    REFUND_DECLINED,
    Line,
    MoneyModel,
    Order,
    OrderState,
    Refund,
)

pytestmark = pytest.mark.e2e

T = TypeVar("T")
Json = dict[str, Any]

SKUS, CUSTOMERS = 3, 2
POLL, WITHIN = 0.02, 30.0  # seconds between two reads, and before giving up on a status
# About 50 steps in all, each a few round trips through the worker: well under half a minute.
RUNS = settings(
    max_examples=6,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,  # the same interleavings on every CI run
    database=None,
    phases=[phase for phase in Phase if phase is not Phase.explain],
    suppress_health_check=[HealthCheck.too_slow],
)

prices = st.sampled_from([250, 1999, 4999])
order_lines = st.dictionaries(
    st.integers(0, SKUS - 1), st.tuples(st.integers(1, 3), prices), min_size=1, max_size=2
)
customer_no = st.integers(0, CUSTOMERS - 1)


@pytest.fixture(name="settings")
def fast_settings(settings: Settings) -> Settings:
    """No delivery wait (orders complete in a few hundred ms), and no rate limit on the model."""
    return settings.model_copy(
        update={"sim_delivery_delay": timedelta(0), "rate_limit": "100000/second"}
    )


class Shop:
    """The API and the books, called from the machine's thread, each call run on the test's loop."""

    def __init__(self, http: httpx.AsyncClient, sessions: SessionFactory, skus: list[str]) -> None:
        self.http, self.sessions, self.skus = http, sessions, skus
        self._loop = asyncio.get_running_loop()

    def run(self, step: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(step, self._loop).result(timeout=WITHIN * 2)

    def post(self, path: str, body: Json) -> httpx.Response:
        return self.run(self.http.post(path, json=body))

    def get(self, path: str) -> Json:
        answer = self.run(self.http.get(path))
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        got: Json = answer.json()
        return got

    def wait(self, path: str, *statuses: str) -> Json:
        """Poll `path` until its `status` is one of `statuses`."""
        deadline = time.monotonic() + WITHIN
        while (seen := self.get(path))["status"] not in statuses:
            assert time.monotonic() < deadline, f"{path} still {seen['status']}, not {statuses}"
            time.sleep(POLL)
        return seen

    def new_sku(self, on_hand: int) -> str:
        return self.run(stock(self.http, on_hand))


class MoneyMachine(RuleBasedStateMachine):
    """Orders, cancels, restocks, refunds and goodwill credit, each checked on arrival."""

    orders = Bundle("orders")  # ids of orders that were placed (waiting, completed, cancelled)

    shop: ClassVar[Shop]  # set by the test: the API, the books, the stocked SKUs

    def __init__(self) -> None:
        super().__init__()
        tag = uuid4().hex[:10]
        self.customers = [f"cust-money-{tag}-{n}" for n in range(CUSTOMERS)]
        self.model = MoneyModel()
        self.waits_on: dict[str, str] = {}  # waiting order -> the unstocked SKU it waits for

    @initialize(amount=st.integers(1000, 12000))
    def grant_a_first_credit(self, amount: int) -> None:
        """So that orders paid with credit get past the API's check from the first step."""
        self.grant_goodwill(0, amount)

    @rule(customer=customer_no, amount=st.integers(1, 10000))
    def grant_goodwill(self, customer: int, amount: int) -> None:
        who = self.customers[customer]
        body = {"amount": amount, "currency": "EUR", "reason": "goodwill"}
        answer = self.shop.post(f"/v1/customers/{who}/store-credit", body)
        assert answer.status_code == 201, answer.text
        self.model.grant(who, amount)

    @rule(
        target=orders,
        customer=customer_no,
        lines=order_lines,
        pay=st.sampled_from(["card", "card and credit", "credit"]),
        token=st.sampled_from(["tok_visa", REFUND_DECLINED]),
        waits=st.booleans(),
        data=st.data(),
    )
    def place(
        self,
        customer: int,
        lines: dict[int, tuple[int, int]],
        pay: str,
        token: str,
        waits: bool,
        data: st.DataObject,
    ) -> object:
        """Some orders wait for a SKU nobody stocked: in flight until cancelled or restocked."""
        who = self.customers[customer]
        wanted = {self.shop.skus[n]: Line(quantity=q, unit_price=p) for n, (q, p) in lines.items()}
        if waits:
            wanted[self.shop.new_sku(0)] = Line(quantity=1, unit_price=999)
        order = Order(customer=who, lines=wanted, credit=0, token=None, state=OrderState.WAITING)
        order.credit = self._credit(data, who, order.total, pay)
        order.token = None if pay == "credit" else token
        answer = self.shop.post("/v1/orders", self._order_body(order))
        if not self.model.can_pay(who, order.credit):
            assert answer.status_code == 409, answer.text
            assert "store credit" in answer.json()["detail"]
            SEEN["place 409"] += 1
            return multiple()
        assert answer.status_code == 202, answer.text
        order_id: str = answer.json()["id"]
        order.state = OrderState.WAITING if waits else OrderState.COMPLETED
        seen = self.shop.wait(f"/v1/orders/{order_id}", order.state.value, "failed", "cancelled")
        assert seen["status"] == order.state.value, seen["status_reason"]
        self.model.place(order_id, order)
        SEEN[f"place {pay} {order.state} {order.token}"] += 1
        if waits:
            self.waits_on[order_id] = list(wanted)[-1]
        return order_id

    def _credit(self, data: st.DataObject, who: str, total: int, pay: str) -> int:
        """The store credit the order pays with: often just what the customer has."""
        if pay == "card":
            return 0
        if pay == "credit":
            return total
        have = self.model.balances.get(who, 0)
        near = st.just(min(max(have, 1), total - 1))
        return data.draw(near | st.integers(1, total - 1), label="store_credit")

    def _order_body(self, order: Order) -> Json:
        body = make_order_body([(sku, line.quantity) for sku, line in order.lines.items()])
        body["customer"]["id"] = order.customer
        for sent, line in zip(body["lines"], order.lines.values(), strict=True):
            sent["unit_price"] = line.unit_price
        payment: Json = {} if order.token is None else {"token": order.token}
        body["payment"] = payment | ({"store_credit": order.credit} if order.credit else {})
        return body

    @rule(order_id=orders)
    def cancel(self, order_id: str) -> None:
        answer = self.shop.post(f"/v1/orders/{order_id}/cancel", {"reason": "changed my mind"})
        if not self.model.cancel(order_id):
            assert answer.status_code == 409, answer.text
            SEEN["cancel 409"] += 1
            return
        SEEN["cancel ok"] += 1
        assert answer.status_code == 202, answer.text
        self.shop.wait(f"/v1/orders/{order_id}", "cancelled", "completed", "failed")

    @precondition(lambda self: any(s is OrderState.WAITING for s in self._states()))
    @rule(data=st.data())
    def restock(self, data: st.DataObject) -> None:
        """The SKU a waiting order waits for arrives: it is woken, ships and completes."""
        waiting = [o for o, order in self.model.orders.items() if order.state is OrderState.WAITING]
        order_id = data.draw(st.sampled_from(waiting), label="order")
        sku = self.waits_on[order_id]
        counted = self.shop.run(self.shop.http.put(f"/v1/inventory/{sku}", json={"on_hand": 1}))
        assert counted.status_code == 200, counted.text
        self.shop.wait(f"/v1/orders/{order_id}", "completed", "failed", "cancelled")
        self.model.complete(order_id)
        SEEN["restock"] += 1

    @rule(order_id=orders, data=st.data())
    def refund(self, order_id: str, data: st.DataObject) -> None:
        self._settle(order_id, self._claim(order_id, self._ask(order_id, data)))

    @rule(order_id=orders, data=st.data())
    def refund_twice_at_once(self, order_id: str, data: st.DataObject) -> None:
        """The second is claimed while the first is pending, so it must count the first; one
        that will fail (and give its claim back) ends first: the outcome would be a race."""
        running: list[str] = []
        for _ in range(2):
            ask = self._ask(order_id, data)
            running += self._claim(order_id, ask)
            if self.model.will_fail(order_id, ask):
                self._settle(order_id, running)
                running = []
        self._settle(order_id, running)

    def _ask(self, order_id: str, data: st.DataObject) -> Refund:
        """A refund of units (some more than are left) or of a sum (often at an edge)."""
        order = self.model.orders[order_id]
        method = data.draw(st.sampled_from([CARD, CREDIT]), label="method")
        if data.draw(st.booleans(), label="by units"):
            skus = data.draw(st.lists(st.sampled_from(list(order.lines)), min_size=1, max_size=2,
                                      unique=True), label="skus")  # fmt: skip
            units = {sku: data.draw(st.integers(1, order.lines[sku].quantity + 1)) for sku in skus}
            amount = sum(n * order.lines[sku].unit_price for sku, n in units.items())
            return Refund(amount=amount, method=method, units=units)
        left, card_left = order.total - order.claimed(), order.card - order.claimed(CARD)
        edges = [edge for edge in (left, left + 1, card_left, card_left + 1) if edge >= 1]
        amount = data.draw(st.sampled_from([1, *edges]) | st.integers(1, order.total + 1))
        return Refund(amount=amount, method=method, units={})

    def _claim(self, order_id: str, ask: Refund) -> list[str]:
        """POST the refund: the id of the claim, or none when the model says it is a 409."""
        body: Json = {"reason": "damaged", "method": ask.method}
        if ask.units:
            body["lines"] = [{"sku": sku, "quantity": n} for sku, n in ask.units.items()]
        else:
            body["amount"] = ask.amount
        answer = self.shop.post(f"/v1/orders/{order_id}/refunds", body)
        if (refusal := self.model.refusal(order_id, ask)) is not None:
            assert answer.status_code == 409, f"{refusal!r} expected: {answer.text}"
            assert refusal.value in answer.json()["detail"]
            SEEN[f"refund refused {refusal.name}"] += 1
            return []
        assert answer.status_code == 202, answer.text
        claimed = answer.json()
        assert (claimed["status"], claimed["amount"]) == ("pending", ask.amount)
        self.model.claim(order_id, claimed["id"], ask)
        return [claimed["id"]]

    def _settle(self, order_id: str, refund_ids: list[str]) -> None:
        for refund_id in refund_ids:
            done = self.shop.wait(f"/v1/refunds/{refund_id}", "succeeded", "failed")
            assert done["status"] == self.model.settle(order_id, refund_id)
            SEEN[
                f"refund {done['method']} {done['status']} {'units' if done['lines'] else 'amount'}"
            ] += 1
            assert (done["credit_note"] is not None) == (done["status"] == "succeeded")

    def _states(self) -> list[OrderState]:
        return [order.state for order in self.model.orders.values()]

    @invariant()
    def the_api_and_the_books_agree_with_the_model(self) -> None:
        for who in self.customers:
            credit = self.shop.get(f"/v1/customers/{who}/store-credit")
            balances = {b["currency"]: b["balance"] for b in credit["balances"]}
            assert balances.get("EUR", 0) == self.model.balances.get(who, 0), who
        for order_id, order in self.model.orders.items():
            self._agrees(self.shop.get(f"/v1/orders/{order_id}"), order)
        if self.model.orders:
            violations = self.shop.run(check(self.shop.sessions, list(self.model.orders)))
            assert violations == [], "\n".join(map(str, violations))

    def _agrees(self, seen: Json, order: Order) -> None:
        assert seen["status"] == order.state.value, seen["status_reason"]
        refunds = [(r["id"], r["status"], r["amount"], r["method"]) for r in seen["refunds"]]
        assert refunds == [
            (refund_id, r.state.value, r.amount, r.method) for refund_id, r in order.refunds.items()
        ]
        if order.state is OrderState.COMPLETED:
            payment = {key: seen["payment"][key] for key in ("status", "captured", "refunded")}
            assert payment == {
                "status": order.payment_status(),
                "captured": order.card,
                "refunded": order.refunded(),
            }
            assert seen["payment"]["store_credit"] == order.credit


async def test_money_in_any_interleaving_agrees_with_a_model_and_keeps_the_books_sound(
    http: httpx.AsyncClient, worker: Worker, sessions: SessionFactory
) -> None:
    skus = [await stock(http, 1_000_000) for _ in range(SKUS)]  # shared by every run
    MoneyMachine.shop = Shop(http, sessions, skus)
    import time as t

    t0 = t.monotonic()
    await asyncio.to_thread(run_state_machine_as_test, MoneyMachine, settings=RUNS)
    print("machine", t.monotonic() - t0)
    for k, v in sorted(SEEN.items()):
        print(k, v)
