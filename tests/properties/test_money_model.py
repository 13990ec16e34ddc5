"""The money side over real HTTP with the real worker, against a model, in random interleavings.

Orders paid by card, card and store credit, or credit alone (some with `tok_refund_declined`,
whose card refunds fail), or asking for more credit than there is (a 409); some wait on
backorder, to be cancelled (the credit comes back) or restocked; refunds of completed orders by
units or by sums, to the card or as store credit, one to three at a time or at once, many of
them at the edge of what can be refunded (the model, tests/properties/money_model.py, says
which must be a 409 and why); goodwill credit. After every step the API agrees with the model on
what the step touched (balances, each order's status, payment and refunds) and db/invariants.py
finds nothing wrong with those orders; at the end of a run, on all of them.

Hypothesis runs the machine synchronously, so it runs in a thread of its own; every request and
every check is a coroutine run on the test's loop, where the API server and the worker run too.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, ClassVar, TypeVar
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
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
Asking = Callable[[Order, str, st.DataObject], Refund]  # draws one refund of an order

SKUS, CUSTOMERS = 3, 2
ORDERS = 5  # placed in a run at most (four at its start): an order costs most of a second
POLL, WITHIN = 0.05, 30.0  # seconds between two reads, and before giving up on a status
# 5 runs of 10 steps, a refund step claiming 1 to 3 refunds: about 15 s (an order to completion
# costs most of a second, a refund a tenth). Longer runs only find their orders' money spent.
RUNS = settings(
    max_examples=5,
    stateful_step_count=10,
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
WEIGHTS = {"refund_sum": 2, "refund_units": 2}  # refunds are the point, and cheap; the rest 1
SPEND = "what they have"
PAYS = ["card", "card", "card and credit", "credit", SPEND]
VISA = "tok_visa"
tokens = st.sampled_from([VISA, REFUND_DECLINED])
# One order in three waits on backorder (for a SKU nobody stocked) until cancelled or restocked.
arrives_as = st.sampled_from([OrderState.COMPLETED, OrderState.COMPLETED, OrderState.WAITING])


@pytest.fixture(name="settings")
def fast_settings(settings: Settings) -> Settings:
    """No delivery wait (orders complete in a few hundred ms), and no rate limit on the model."""
    return settings.model_copy(
        update={"sim_delivery_delay": timedelta(0), "rate_limit": "100000/second"}
    )


async def _gather(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    return list(await asyncio.gather(*calls))


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
        [got] = self.get_all([path])
        return got

    def get_all(self, paths: list[str]) -> list[Json]:
        """GET each path at once (the reads overlap on the loop)."""
        answers = self.run(_gather([self.http.get(path) for path in paths]))
        for path, answer in zip(paths, answers, strict=True):
            assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return [answer.json() for answer in answers]

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

    shop: ClassVar[Shop]  # set by the test: the API, the books, the stocked SKUs

    def __init__(self) -> None:
        super().__init__()
        tag = uuid4().hex[:10]
        self.customers = [f"cust-money-{tag}-{n}" for n in range(CUSTOMERS)]
        self.model = MoneyModel()
        self.touched: set[str] = set()  # orders a step touched
        self.touched_customers: set[str] = set()
        self.agreed = False  # the last step ended with the model and the API agreeing

    @initialize(extra=st.integers(0, 5000), data=st.data())
    def open_with_orders_at_once(self, extra: int, data: st.DataObject) -> None:
        """Four orders placed together (they move through the worker in parallel: a run's
        dearest part, paid once). The first customer pays three with store credit, granted
        beforehand with `extra` to spare so that every hold succeeds whichever comes first: one
        with a card too (refunds then meet the card's share), one with credit alone, and one
        with a card too that waits on backorder (to be cancelled, its credit coming back, or
        restocked). The second customer pays one by card (a declined refund's, maybe)."""
        first, second = self.customers
        orders = [
            self._drawn(data, first, "card and credit", OrderState.COMPLETED),
            self._drawn(data, first, "credit", OrderState.COMPLETED),
            self._drawn(data, first, "card and credit", OrderState.WAITING),
            self._drawn(data, second, "card", OrderState.COMPLETED),
        ]
        self._grant(first, sum(order.credit for order in orders) + extra)
        placed = [(self._submit(order), order) for order in orders]
        for order_id, order in placed:
            self._arrive(order_id, order)

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """One of the actions below, drawn from those possible now (refunds twice as often).

        One rule that draws its action, not a rule per action: Hypothesis enables a random few
        rules in each run (swarm testing), which over this test's handful of runs left most of
        them doing one thing again and again.
        """
        self.agreed = False
        possible = self._possible()
        weighted = [name for name in possible for _ in range(WEIGHTS.get(name, 1))]
        possible[data.draw(st.sampled_from(weighted), label="action")](data)

    def _possible(self) -> dict[str, Callable[[st.DataObject], None]]:
        """The actions that can run now; the first is the one Hypothesis draws when shrinking."""
        refunds = {"refund_sum": self.refund_sum, "refund_units": self.refund_units}
        placing = {"place": self.place} if len(self.model.orders) < ORDERS else {}
        return {
            **(refunds if self._ids(OrderState.COMPLETED) else {}),
            **placing,
            "cancel_or_restock": self.cancel_or_restock,
            "grant_goodwill": self.grant_goodwill,
        }

    def grant_goodwill(self, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from(self.customers), label="customer")
        self._grant(who, data.draw(st.integers(1, 10000), label="amount"))

    def _grant(self, who: str, amount: int) -> None:
        body = {"amount": amount, "currency": "EUR", "reason": "goodwill"}
        answer = self.shop.post(f"/v1/customers/{who}/store-credit", body)
        assert answer.status_code == 201, answer.text
        self.model.grant(who, amount)
        self.touched_customers.add(who)

    def place(self, data: st.DataObject) -> None:
        """By card, card and store credit, credit alone, or priced to what the customer has (a
        redemption that gets past the API's check): a 409 whenever the balance is short."""
        who = data.draw(st.sampled_from(self.customers), label="customer")
        pay = data.draw(st.sampled_from(PAYS), label="pay")
        arrives = data.draw(arrives_as, label="arrives as")
        if pay == SPEND:
            order = self._spending(data, who, arrives)
        else:
            order = self._drawn(data, who, pay, arrives)
        self._arrive(self._submit(order), order)

    def _drawn(self, data: st.DataObject, who: str, pay: str, state: OrderState) -> Order:
        lines = data.draw(order_lines, label="lines")
        wanted = {self.shop.skus[n]: Line(quantity=q, unit_price=p) for n, (q, p) in lines.items()}
        total = sum(line.quantity * line.unit_price for line in wanted.values())
        return Order(
            customer=who,
            lines=wanted,
            credit=self._credit(data, who, total, pay),
            token=None if pay == "credit" else data.draw(tokens, label="token"),
            state=state,
        )

    def _spending(self, data: st.DataObject, who: str, state: OrderState) -> Order:
        """All or part of the customer's balance, alone or with a card (none: 1, a 409)."""
        have = max(self.model.balances.get(who, 0), 1)
        credit = data.draw(st.just(have) | st.integers(1, have), label="store_credit")
        by_card = data.draw(st.just(0) | st.integers(1, 3000), label="by card")
        return Order(
            customer=who,
            lines={self.shop.skus[0]: Line(quantity=1, unit_price=credit + by_card)},
            credit=credit,
            token=data.draw(tokens, label="token") if by_card else None,
            state=state,
        )

    def _submit(self, order: Order) -> str | None:
        """POST the order (a waiting one's first SKU made one nobody stocked); its id, or None
        when the model says the balance is short (a 409)."""
        if order.state is OrderState.WAITING:
            (_, line), *rest = order.lines.items()
            order.lines = {self.shop.new_sku(0): line, **dict(rest)}
        answer = self.shop.post("/v1/orders", self._order_body(order))
        self.touched_customers.add(order.customer)
        if not self.model.can_pay(order.customer, order.credit):
            assert answer.status_code == 409, answer.text
            assert "store credit" in answer.json()["detail"]
            return None
        assert answer.status_code == 202, answer.text
        order_id: str = answer.json()["id"]
        return order_id

    def _arrive(self, order_id: str | None, order: Order) -> None:
        """Wait until the order completed, or waits on backorder (its credit held)."""
        if order_id is None:
            return
        seen = self.shop.wait(f"/v1/orders/{order_id}", order.state.value, "failed", "cancelled")
        assert seen["status"] == order.state.value, seen["status_reason"]
        self.model.place(order_id, order)
        self.touched.add(order_id)

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

    def cancel_or_restock(self, data: st.DataObject) -> None:
        """An order waiting on backorder is cancelled (its credit comes back) or gets its SKU
        (it ships and completes); the cancel of one that completed or was cancelled is a 409."""
        order_id = self._touch(data.draw(self._some_order(OrderState.WAITING), label="order"))
        if (
            data.draw(st.booleans(), label="restock")
            and self.model.orders[order_id].state is OrderState.WAITING
        ):
            self._restock(order_id)
        else:
            self._cancel(order_id)

    def _cancel(self, order_id: str) -> None:
        answer = self.shop.post(f"/v1/orders/{order_id}/cancel", {"reason": "changed my mind"})
        if not self.model.cancel(order_id):
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 202, answer.text
        seen = self.shop.wait(f"/v1/orders/{order_id}", "cancelled", "completed", "failed")
        assert seen["status"] == "cancelled", seen["status_reason"]

    def _restock(self, order_id: str) -> None:
        sku, line = next(iter(self.model.orders[order_id].lines.items()))  # the one it waits for
        counted = self.shop.run(
            self.shop.http.put(f"/v1/inventory/{sku}", json={"on_hand": line.quantity})
        )
        assert counted.status_code == 200, counted.text
        seen = self.shop.wait(f"/v1/orders/{order_id}", "completed", "failed", "cancelled")
        assert seen["status"] == "completed", seen["status_reason"]
        self.model.complete(order_id)

    def refund_units(self, data: st.DataObject) -> None:
        """Units at their paid price, some more than shipped less refunded."""
        self._refund(data, self._units)

    def refund_sum(self, data: st.DataObject) -> None:
        """Sums, mostly at the edge: all its method may still give back, or 1 more."""
        self._refund(data, self._sum)

    def _refund(self, data: st.DataObject, ask_for: Asking) -> None:
        """A few refunds of one order, one after the other or at once: then each is claimed
        while those before are pending, and must count them. One that will fail (its claim
        given back) ends before the next is asked for: the outcome would be a race."""
        order_id = self._touch(data.draw(self._some_order(OrderState.COMPLETED), label="order"))
        asks = data.draw(st.integers(1, 3), label="asks")
        at_once = data.draw(st.booleans(), label="at once")
        running: list[str] = []
        for _ in range(asks):
            method = data.draw(st.sampled_from([CARD, CREDIT]), label="method")
            ask = ask_for(self.model.orders[order_id], method, data)
            claimed = self._claim(order_id, ask)
            running += claimed
            if claimed and self.model.will_fail(order_id, ask):
                self._settle(order_id, running)
                # What support does next: the same refund as store credit, which must fit now
                # that the failed claim was given back.
                again = Refund(amount=ask.amount, method=CREDIT, units=ask.units)
                running = self._claim(order_id, again)
            elif not at_once:
                self._settle(order_id, running)
                running = []
        self._settle(order_id, running)

    @staticmethod
    def _units(order: Order, method: str, data: st.DataObject) -> Refund:
        skus = st.lists(st.sampled_from(list(order.lines)), min_size=1, max_size=2, unique=True)
        units = {
            sku: data.draw(st.integers(1, order.lines[sku].quantity + 1), label=sku)
            for sku in data.draw(skus, label="skus")
        }
        amount = sum(n * order.lines[sku].unit_price for sku, n in units.items())
        return Refund(amount=amount, method=method, units=units)

    @staticmethod
    def _sum(order: Order, method: str, data: st.DataObject) -> Refund:
        most = order.total - order.claimed()  # what may still be given back by this method
        if method == CARD:
            most = min(most, order.card - order.claimed(CARD))
        edges = [edge for edge in (most, most + 1) if edge >= 1]
        anywhere = st.integers(1, order.total + 1)
        # Three times in four at the edge, where a claim's arithmetic would be off by one.
        sums = st.one_of(*[st.sampled_from(edges)] * 3, anywhere) if edges else anywhere
        amount = data.draw(sums, label="amount")
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
            assert (done["credit_note"] is not None) == (done["status"] == "succeeded")

    def _touch(self, order_id: str) -> str:
        self.touched.add(order_id)
        self.touched_customers.add(self.model.orders[order_id].customer)
        return order_id

    def _ids(self, state: OrderState | None = None) -> list[str]:
        return [o for o, order in self.model.orders.items() if state in (None, order.state)]

    def _some_order(self, likely: OrderState) -> st.SearchStrategy[str]:
        """Often one in state `likely` (when there is one), else any: refusals are tested too."""
        some = st.sampled_from(self._ids())
        return st.sampled_from(ids) | some if (ids := self._ids(likely)) else some

    @invariant()
    def what_the_step_touched_agrees_with_the_model(self) -> None:
        self._agree(self.touched_customers, self.touched)
        self.touched_customers, self.touched = set(), set()
        self.agreed = True

    def teardown(self) -> None:
        """Every customer and order of the run, as the run ends (unless a step failed: its
        own failure is the one to report)."""
        if self.agreed:
            self._agree(set(self.customers), set(self.model.orders))

    def _agree(self, customers: set[str], order_ids: set[str]) -> None:
        """The API says what the model says, and db/invariants.py finds nothing wrong."""
        who, ids = sorted(customers), sorted(order_ids)
        paths = [f"/v1/customers/{c}/store-credit" for c in who] + [f"/v1/orders/{i}" for i in ids]
        seen = self.shop.get_all(paths)
        for customer, credit in zip(who, seen, strict=False):
            balances = {b["currency"]: b["balance"] for b in credit["balances"]}
            assert balances.get("EUR", 0) == self.model.balances.get(customer, 0), customer
        for order_id, order in zip(ids, seen[len(who) :], strict=True):
            self._agrees(order, self.model.orders[order_id])
        if order_ids:
            violations = self.shop.run(check(self.shop.sessions, sorted(order_ids)))
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
        else:
            assert seen["payment"]["captured"] == seen["payment"]["refunded"] == 0


async def test_money_in_any_interleaving_agrees_with_a_model_and_keeps_the_books_sound(
    http: httpx.AsyncClient, worker: Worker, sessions: SessionFactory
) -> None:
    skus = [await stock(http, 1_000_000) for _ in range(SKUS)]  # shared by every run
    MoneyMachine.shop = Shop(http, sessions, skus)
    await asyncio.to_thread(run_state_machine_as_test, MoneyMachine, settings=RUNS)
