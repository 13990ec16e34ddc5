"""What Temporal keeps of an order is ciphertext: its history, fetched without the codec, holds
none of the customer's personal data, though the workflow had all of it; with the codec it reads.
Rotating the key keeps older orders readable. The API's and the worker's logs name nobody."""

import logging
from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest
from google.protobuf.message import Message
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import MarkerRecordedEventAttributes
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import SessionFactory
from security.payloads import KEY_ID, is_sealed
from security.roles import Role
from settings import Settings
from temporal_client import connect_temporal
from tests.harness.keys import TEST_PAYLOAD_KEYS, bearer
from tests.harness.orders import MakeOrderBody, OrderBody, wait_for_status
from tests.harness.servers import serve_api
from tests.harness.storefront import place, stock
from tests.harness.support import NEW_ADDRESS, change, placed_and_held_for_review, release
from worker import build_worker
from workflows.contracts import OrderInput, order_workflow_id

pytestmark = pytest.mark.e2e

SDK_MARKER = {"data", "patch-data"}  # the SDK core's details of its markers, never our data
ROTATED = "test-2:sPj4jj2hP8rlgTkweiox8nm8KjPTxwQ1jP1sho714lk," + TEST_PAYLOAD_KEYS


def personal_body(order_body: MakeOrderBody, sku: str) -> OrderBody:
    """An order whose personal data is unique to this test, so finding it means it leaked."""
    tag = uuid4().hex[:8]
    return order_body(
        sku,
        customer={"id": f"cust-{uuid4()}", "email": f"ada.{tag}@example.com", "name": f"Ada {tag}"},
        shipping_address={
            "name": f"Ada Lovelace {tag}",
            "line1": f"{tag} Main Street",
            "line2": f"Flat {tag}",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        payment={"token": f"tok_{tag}"},
    )


def personal_data(body: OrderBody) -> list[str]:
    """The customer's email and name, the address's name and lines, the payment token."""
    customer, address = body["customer"], body["shipping_address"]
    found = [customer["email"], customer["name"], address["name"], address["line1"]]
    return [*found, address["line2"], body["payment"]["token"]]


async def history_of(client: Client, order_id: str) -> WorkflowHistory:
    return await client.get_workflow_handle(order_workflow_id(order_id)).fetch_history()


def stored_bytes(history: WorkflowHistory) -> bytes:
    """The history as Temporal stores and serves it: its events' protobuf bytes, and JSON."""
    events = b"".join(event.SerializeToString() for event in history.events)
    return events + history.to_json().encode()


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload of ours in `message`: not search attributes (Temporal indexes them, so they
    carry no personal data), nor the SDK's own marker bookkeeping (a patch's id, a local
    activity's attempt and timing; its result is ours)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or field.name == "search_attributes":
            continue
        if isinstance(value, Message):
            items = [value]
        elif hasattr(value, "items"):  # a map
            sdk_own = isinstance(message, MarkerRecordedEventAttributes)
            items = [item for key, item in value.items() if not (sdk_own and key in SDK_MARKER)]
        else:
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


async def order_input(history: WorkflowHistory, converter: DataConverter) -> OrderInput:
    started = history.events[0].workflow_execution_started_event_attributes
    [order] = await converter.decode(started.input.payloads, [OrderInput])
    assert isinstance(order, OrderInput)
    return order


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Orders wait on a payment review, so the test changes the address with an Update."""
    return settings.model_copy(update={"payment_review_above": 0})


async def test_temporal_keeps_no_personal_data_of_an_order_and_the_codec_reads_it_all(
    api: httpx.AsyncClient,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    order_body: MakeOrderBody,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    body = personal_body(order_body, await stock(api, 5))
    order_id = await placed_and_held_for_review(api, body)
    new_line: str = f"{uuid4().hex[:8]} Rue de Rivoli"
    new_address = NEW_ADDRESS | {"line1": new_line}
    assert (await change(api, order_id, shipping_address=new_address)).status_code == 200
    assert (await release(api, order_id)).status_code == 200
    await wait_for_status(api, order_id, "completed")
    plain = await Client.connect(temporal_env.client.service_client.config.target_host)

    history = await history_of(plain, order_id)

    secrets = [*personal_data(body), new_line]
    assert [text for text in secrets if text.encode() in stored_bytes(history)] == []
    payloads = [p for event in history.events for p in payloads_in(event)]
    assert [p.metadata.get("encoding") for p in payloads if not is_sealed(p)] == []
    readable = await order_input(history, temporal_env.client.data_converter)
    assert readable.shipping_address.line1 == body["shipping_address"]["line1"]
    assert readable.payment_token == body["payment"]["token"]
    [plaintext] = await DataConverter.default.encode([readable])  # what the check above would see
    assert body["shipping_address"]["line1"].encode() in plaintext.SerializeToString()
    assert [text for text in secrets if text in caplog.text] == []


async def test_orders_started_before_and_after_a_key_rotation_both_decode(
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    sessions: SessionFactory,
    role_keys: dict[Role, str],
    order_body: MakeOrderBody,
) -> None:
    rotated = settings.model_copy(
        update={"payload_keys": SecretStr(ROTATED), "payment_review_above": None}
    )
    admin = bearer(role_keys[Role.ADMIN])
    async with serve_api(settings) as before:  # the old key only
        before.headers.update(admin)
        old_body = personal_body(order_body, await stock(before, 5))
        old_order = await place(before, old_body)
    client = await connect_temporal(rotated)
    async with serve_api(rotated) as after, build_worker(client, sessions, rotated):
        after.headers.update(admin)
        new_body = personal_body(order_body, await stock(after, 5))
        new_order = await place(after, new_body)
        await wait_for_status(after, new_order, "completed")
        await wait_for_status(after, old_order, "on_hold", "completed")  # its review, older key

    old_history, new_history = [await history_of(client, o) for o in (old_order, new_order)]
    assert _key_ids(new_history) == {"test-2"}
    assert _key_ids(old_history) == {"test-1", "test-2"}  # its input before; its steps after
    old_input = await order_input(old_history, client.data_converter)
    new_input = await order_input(new_history, client.data_converter)
    assert old_input.shipping_address.line1 == old_body["shipping_address"]["line1"]
    assert new_input.shipping_address.line1 == new_body["shipping_address"]["line1"]


def _key_ids(history: WorkflowHistory) -> set[str]:
    payloads = [p for event in history.events for p in payloads_in(event)]
    return {p.metadata[KEY_ID].decode() for p in payloads}
