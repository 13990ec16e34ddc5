"""Every role on every route that takes an API key, generated from the app's routes: anonymous
callers get 401, a role without the route's scope 403, the others the route's own answer.

A route with no example below fails here: add one, with the answer an allowed caller gets."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from db.session import SessionFactory
from security.roles import Role, Scope, may
from settings import Settings
from tests.harness.keys import bearer
from tests.harness.orders import MakeOrderBody, MakeSku, wait_for_status
from tests.harness.returns import wait_for_return
from tests.harness.routes import Declared, declared_routes
from tests.harness.servers import serve_api, suite_settings
from tests.harness.support import NEW_ADDRESS
from worker import build_worker

pytestmark = pytest.mark.integration

ROUTES = [
    route for route in declared_routes(create_app()) if route.path.startswith(("/v1/", "/codec/"))
]
CALLERS: list[Role | None] = [None, *Role]  # None: no key at all
SHARED: dict[str, Any] = {}  # what the examples may share: the session's database outlives a test


@pytest.fixture(scope="module")
def settings(postgres_url: str, temporal_env: WorkflowEnvironment) -> Settings:
    """One app and one worker for the module's 300-odd cases (a fresh pair per case cost 0.4 s
    each: two minutes of make test). The limiter is not what is tested here."""
    return suite_settings(postgres_url, temporal_env, rate_limit="100000/second")


@pytest.fixture(scope="module")
async def api(settings: Settings, role_keys: dict[Role, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_api(settings) as client:
        client.headers.update(bearer(role_keys[Role.ADMIN]))
        yield client


@pytest.fixture(scope="module")
async def worker(
    temporal_env: WorkflowEnvironment, sessions: SessionFactory, settings: Settings
) -> AsyncIterator[Worker]:
    async with build_worker(temporal_env.client, sessions, settings) as running:
        yield running


@dataclass(frozen=True)
class Call:
    """One request: the path's parameters and the JSON body."""

    params: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass
class World:
    """What the examples build on: an admin client (the test's `api`) and a worker."""

    api: httpx.AsyncClient
    new_sku: MakeSku
    order_body: MakeOrderBody

    async def order(self, on_hand: int = 5) -> str:
        """An order of channel `default` (the storefront key's) by admin."""
        body = self.order_body(await self.new_sku(on_hand))
        placed = await self.api.post("/v1/orders", json=body)
        assert placed.status_code == 202, placed.text
        order_id: str = placed.json()["id"]
        return order_id

    async def backordered(self) -> str:
        """An order waiting for stock: every support action applies to it."""
        order_id = await self.order(on_hand=0)
        await wait_for_status(self.api, order_id, "backordered")
        return order_id

    async def completed(self) -> dict[str, Any]:
        """A shipped, captured and invoiced order (the worker runs it to the end), one for the
        whole module: the examples read it, or refund 1.00 of its 39.98."""
        if "order" not in SHARED:
            SHARED["order"] = await wait_for_status(self.api, await self.order(), "completed")
        order: dict[str, Any] = SHARED["order"]
        return order

    async def refund(self) -> str:
        if "refund" not in SHARED:
            order = await self.completed()
            body = {"amount": 100, "reason": "r", "method": "store_credit"}
            made = await self.api.post(f"/v1/orders/{order['id']}/refunds", json=body)
            assert made.status_code == 202, made.text
            SHARED["refund"] = made.json()["id"]
        refund_id: str = SHARED["refund"]
        return refund_id

    async def returnable(self) -> str:
        """A delivered order of 20 units, one for the module: each return or claim below takes
        one of them."""
        if "returnable" not in SHARED:
            body = self.order_body(await self.new_sku(30), quantity=20)
            placed = await self.api.post("/v1/orders", json=body)
            assert placed.status_code == 202, placed.text
            order = await wait_for_status(self.api, placed.json()["id"], "completed")
            SHARED["returnable"] = order["id"], order["lines"][0]["sku"]
        order_id: str = SHARED["returnable"][0]
        return order_id

    async def new_return(self, labelled: bool = False) -> str:
        """A return of one unit (refunded as store credit), waiting for its label if asked."""
        order_id = await self.returnable()
        made = await self.api.post(f"/v1/orders/{order_id}/returns", json=self.return_body())
        assert made.status_code == 202, made.text
        return_id: str = made.json()["id"]
        if labelled:
            await wait_for_return(self.api, return_id, "awaiting_receipt")
        return return_id

    def return_body(self) -> dict[str, Any]:
        sku = SHARED["returnable"][1]
        line = {"sku": sku, "quantity": 1, "reason": "changed_mind"}
        return {"lines": [line], "resolution": "store_credit"}

    def claim_body(self) -> dict[str, Any]:
        sku = SHARED["returnable"][1]
        lines = [{"sku": sku, "quantity": 1}]
        return {"type": "missing", "lines": lines, "resolution": "store_credit"}

    async def shared_return(self) -> str:
        if "return" not in SHARED:
            SHARED["return"] = await self.new_return(labelled=True)
        return_id: str = SHARED["return"]
        return return_id

    async def shared_claim(self) -> str:
        if "claim" not in SHARED:
            order_id = await self.returnable()
            made = await self.api.post(f"/v1/orders/{order_id}/claims", json=self.claim_body())
            assert made.status_code == 202, made.text
            SHARED["claim"] = made.json()["id"]
        claim_id: str = SHARED["claim"]
        return claim_id

    async def held(self) -> str:
        order_id = await self.backordered()
        body = {"reason_code": "customer_request"}
        assert (await self.api.post(f"/v1/orders/{order_id}/hold", json=body)).status_code == 200
        return order_id


async def _order(world: World) -> Call:
    return Call({"order_id": await world.order()})


async def _backordered(world: World, json: Any) -> Call:
    return Call({"order_id": await world.backordered()}, json)


async def _held(world: World) -> Call:
    return Call({"order_id": await world.held()}, {"note": "checked"})


async def _sku(world: World, json: Any = None) -> Call:
    return Call({"sku": await world.new_sku(5)}, json)


async def _key(world: World) -> Call:
    created = await world.api.post("/v1/api-keys", json={"name": "doomed", "role": "ops"})
    return Call({"key_id": created.json()["id"]})


async def _new_order(world: World) -> Call:
    return Call(json=world.order_body(await world.new_sku(5)))


async def _completed(world: World, json: Any = None) -> Call:
    return Call({"order_id": (await world.completed())["id"]}, json)


async def _refund(world: World) -> Call:
    return Call({"refund_id": await world.refund()})


async def _invoice(world: World) -> Call:
    return Call({"number": (await world.completed())["invoices"][0]["number"]})


async def _customer(world: World, json: Any = None) -> Call:
    """A customer of channel `default` (the storefront key's): one who ordered there."""
    body = world.order_body(await world.new_sku(5))
    assert (await world.api.post("/v1/orders", json=body)).status_code == 202
    return Call({"customer_id": body["customer"]["id"]}, json)


async def _returnable(world: World) -> Call:
    order_id = await world.returnable()
    return Call({"order_id": order_id}, world.return_body())


async def _claimable(world: World) -> Call:
    order_id = await world.returnable()
    return Call({"order_id": order_id}, world.claim_body())


async def _return(world: World) -> Call:
    return Call({"return_id": await world.shared_return()})


async def _labelled(world: World, json: Any) -> Call:
    """A return of this test's worker, labelled: a decision on it is refused (409) by its
    workflow, which shows the caller got past the scope check to it."""
    return Call({"return_id": await world.new_return(labelled=True)}, json)


async def _cancellable(world: World) -> Call:
    return Call({"return_id": await world.new_return()}, {"reason": "kept it"})


async def _receivable(world: World) -> Call:
    return_id = await world.new_return(labelled=True)
    sku = SHARED["returnable"][1]
    lines = [{"sku": sku, "quantity": 1, "condition": "resellable"}]
    return Call({"return_id": return_id}, {"lines": lines})


async def _claim(world: World) -> Call:
    return Call({"claim_id": await world.shared_claim()})


# A receiver the examples never reach: nothing runs the relay here, and the endpoints subscribe
# to a type no example makes.
HOOK = {"url": "https://93.184.216.34/hooks", "events": ["webhook_endpoint.disabled"]}


async def _endpoint(world: World, json: Any = None) -> Call:
    created = await world.api.post("/v1/webhook-endpoints", json=HOOK)
    assert created.status_code == 201, created.text
    return Call({"endpoint_id": created.json()["id"]}, json)


async def _delivery(world: World) -> Call:
    """A delivery (made by a replay) whose endpoint was disabled since: retried, it ends at
    once, never reaching out."""
    created = await world.api.post("/v1/webhook-endpoints", json=HOOK | {"events": ["*"]})
    endpoint = created.json()["id"]
    since = {"since": created.json()["created_at"]}
    await world.order()  # an event to replay
    replayed = await world.api.post(f"/v1/webhook-endpoints/{endpoint}/replay", json=since)
    assert replayed.json()["replayed"] >= 1, replayed.text
    disabled = await world.api.patch(f"/v1/webhook-endpoints/{endpoint}", json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    listed = await world.api.get(f"/v1/webhook-endpoints/{endpoint}/deliveries")
    return Call({"delivery_id": listed.json()["items"][0]["id"]})


async def _nothing_needed(world: World) -> Call:
    return Call()


async def _country(world: World, json: Any) -> Call:
    return Call({"country": "ZZ"}, json)  # no order ships there


def _body(json: Any) -> Callable[[World], Awaitable[Call]]:
    async def call(world: World) -> Call:
        return Call(json=json)

    return call


Example = tuple[int, Callable[[World], Awaitable[Call]]]
EXAMPLES: dict[str, Example] = {
    "POST /v1/orders": (202, _new_order),
    "GET /v1/orders": (200, _nothing_needed),
    "GET /v1/orders/{order_id}": (200, _order),
    "POST /v1/orders/{order_id}/changes": (
        200,
        lambda w: _backordered(w, {"shipping_address": NEW_ADDRESS}),
    ),
    "POST /v1/orders/{order_id}/hold": (
        200,
        lambda w: _backordered(w, {"reason_code": "fraud_review"}),
    ),
    "POST /v1/orders/{order_id}/release": (200, _held),
    "POST /v1/orders/{order_id}/cancel": (202, lambda w: _backordered(w, {"reason": "r"})),
    "GET /v1/orders/{order_id}/audit": (200, _order),
    "GET /v1/inventory/{sku}": (200, _sku),
    "PUT /v1/inventory/{sku}": (200, lambda w: _sku(w, {"on_hand": 7})),
    "POST /v1/inventory/{sku}/adjustments": (
        200,
        lambda w: _sku(w, {"delta": 1, "reason": "found one"}),
    ),
    "POST /v1/orders/{order_id}/refunds": (
        202,
        lambda w: _completed(w, {"amount": 100, "reason": "r", "method": "original_payment"}),
    ),
    "GET /v1/orders/{order_id}/refunds": (200, _order),
    "GET /v1/refunds/{refund_id}": (200, _refund),
    "GET /v1/customers/{customer_id}/store-credit": (200, _customer),
    "POST /v1/customers/{customer_id}/store-credit": (
        201,
        lambda w: _customer(w, {"amount": 100, "currency": "EUR", "reason": "sorry"}),
    ),
    "GET /v1/invoices/{number}": (200, _invoice),
    "GET /v1/invoices/{number}/pdf": (200, _invoice),
    "GET /v1/orders/{order_id}/invoices": (200, _order),
    "POST /v1/orders/{order_id}/returns": (202, _returnable),
    "GET /v1/orders/{order_id}/returns": (200, _order),
    "GET /v1/returns": (200, _nothing_needed),
    "GET /v1/returns/{return_id}": (200, _return),
    "POST /v1/returns/{return_id}/approve": (409, lambda w: _labelled(w, {})),
    "POST /v1/returns/{return_id}/decline": (409, lambda w: _labelled(w, {"reason": "worn"})),
    "POST /v1/returns/{return_id}/cancel": (200, _cancellable),
    "POST /v1/returns/{return_id}/receive": (200, _receivable),
    "POST /v1/orders/{order_id}/claims": (202, _claimable),
    "GET /v1/orders/{order_id}/claims": (200, _order),
    "GET /v1/claims/{claim_id}": (200, _claim),
    "GET /v1/tax-rates": (200, _nothing_needed),
    "PUT /v1/tax-rates/{country}": (200, lambda w: _country(w, {"rate": "0"})),
    "GET /v1/accounting/journal": (200, _nothing_needed),
    "POST /v1/api-keys": (201, _body({"name": "n", "role": "ops"})),
    "GET /v1/api-keys": (200, _nothing_needed),
    "DELETE /v1/api-keys/{key_id}": (204, _key),
    "GET /v1/events": (200, _nothing_needed),
    "POST /v1/webhook-endpoints": (201, _body(HOOK)),
    "GET /v1/webhook-endpoints": (200, _nothing_needed),
    "GET /v1/webhook-endpoints/{endpoint_id}": (200, _endpoint),
    "PATCH /v1/webhook-endpoints/{endpoint_id}": (
        200,
        lambda w: _endpoint(w, {"description": "d"}),
    ),
    "DELETE /v1/webhook-endpoints/{endpoint_id}": (204, _endpoint),
    "POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret": (200, _endpoint),
    "POST /v1/webhook-endpoints/{endpoint_id}/replay": (
        202,
        lambda w: _endpoint(w, {"since": "2999-01-01T00:00:00Z"}),  # nothing to send again
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries": (200, _endpoint),
    "POST /v1/webhook-deliveries/{delivery_id}/retry": (202, _delivery),
    "GET /v1/customers/{customer_id}": (200, _customer),
    "GET /v1/customers": (200, _nothing_needed),
    "GET /v1/orders/{order_id}/notifications": (200, _order),
    "POST /codec/encode": (200, _body({"payloads": []})),
    "POST /codec/decode": (200, _body({"payloads": []})),
}
# What callers who must be turned away ask for: nothing that exists, and no body, so their
# answer cannot come from anything but who they are.
NOTHING = Call(
    {
        "order_id": "no-such-order",
        "sku": "SKU-NOTHING",
        "key_id": "key_nothing",
        "refund_id": "no-such-refund",
        "return_id": "no-such-return",
        "claim_id": "no-such-claim",
        "customer_id": "no-such-customer",
        "number": "INV-0000-000000",
        "country": "ZZ",
        "endpoint_id": "we_nothing",
        "delivery_id": "dlv_nothing",
    }
)


def expected(route: Declared, caller: Role | None) -> int | None:
    """401 or 403 for a caller turned away; None: the route's own answer."""
    if caller is None:
        return 401
    [scope] = route.scopes
    return None if may(caller, Scope(scope)) else 403


def test_every_route_that_takes_a_key_has_an_example() -> None:
    assert sorted(str(route) for route in ROUTES) == sorted(EXAMPLES)


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: "anonymous" if c is None else c.value)
@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_each_role_gets_exactly_its_answer_on_each_route(
    route: Declared,
    caller: Role | None,
    api: httpx.AsyncClient,
    worker: Worker,
    role_keys: dict[Role, str],
    new_sku: MakeSku,
    order_body: MakeOrderBody,
) -> None:
    allowed_status, prepare = EXAMPLES[str(route)]
    refusal = expected(route, caller)
    call = NOTHING if refusal is not None else await prepare(World(api, new_sku, order_body))
    request = api.build_request(
        route.method,
        route.path.format(**call.params),
        json=call.json,
        headers={"Idempotency-Key": str(uuid4())},
    )
    del request.headers["Authorization"]  # the fixture's admin key: this caller's instead
    if caller is not None:
        request.headers.update(bearer(role_keys[caller]))

    answer = await api.send(request)

    assert answer.status_code == (refusal or allowed_status), answer.text
    if refusal == 403:
        assert answer.json()["scope"] in route.scopes
