"""Orders: place one (idempotently), read one, list a page. Support actions: routes/support.py."""

import logging
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.auth import grants
from api.cursor import BadCursor, decode_cursor, encode_cursor
from api.deps import IdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.errors import Conflict, OrderNotFound, WorkflowUnavailable, answers, field_error, invalid
from api.mapping import request_hash, to_order_public, to_order_record
from api.schemas import OrderCreate, OrderPublic, OrdersPublic
from db import order_events, store_credit
from db.mapping import to_order_input
from db.models import OrderRecord
from db.orders import OrderRepository, PagePosition
from db.stock import StockRepository
from security.principal import Principal
from security.roles import Scope
from settings import Settings
from temporal_client import start_order
from workflows.contracts import OrderStatus
from workflows.rules import format_money, order_total

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/orders", tags=["orders"])


@router.post(
    "",
    status_code=HTTPStatus.ACCEPTED,
    responses=answers(
        {
            409: "The Idempotency-Key was used for another request body",
            503: "Stored, but Temporal is unavailable: retry with the same key",
        }
    ),
)
async def place_order(
    body: OrderCreate,
    response: Response,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Annotated[Principal, grants(Scope.ORDERS_CREATE)],
    idempotency_key: IdempotencyKey = None,
) -> OrderPublic:
    """Place an order: stored as `pending`, then its workflow starts. Retry with the same key.

    The order is the channel's of a storefront key; an admin key names the channel. Keys are
    scoped per channel: two storefronts' same key places two orders."""
    channel = _channel_for(caller, body)
    body = body.model_copy(update={"channel": channel})  # the same request, however it named it
    _refuse_duplicate_skus(body)
    _refuse_unpaid(body)
    order = await _stored_or_new(session, body, idempotency_key, channel, caller.actor)
    if order.status == OrderStatus.PENDING:  # a replay may find a workflow that never started
        await _start(temporal, order, settings)
    response.headers["Location"] = f"/v1/orders/{order.id}"
    return to_order_public(order)


@router.get("/{order_id}", responses=answers({404: "No such order"}))
async def get_order(
    order_id: str, session: SessionDep, caller: Annotated[Principal, grants(Scope.ORDERS_READ)]
) -> OrderPublic:
    """One order from the read model: status, lines, history and shipments."""
    return to_order_public(await _get_or_404(session, order_id, caller))


@router.get("")
async def list_orders(
    session: SessionDep,
    caller: Annotated[Principal, grants(Scope.ORDERS_READ)],
    status: OrderStatus | None = None,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> OrdersPublic:
    """Orders newest first, filtered by status, customer and channel; follow `next_cursor` for
    more. A storefront key lists its own channel's orders only."""
    after = _position(cursor)
    if caller.channel is not None:
        if channel not in (None, caller.channel):
            return OrdersPublic(items=[], next_cursor=None)  # another channel's: none to see
        channel = caller.channel
    rows = await OrderRepository(session).page(status, customer_id, limit + 1, after, channel)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_cursor(PagePosition(created_at=last.created_at, order_id=last.id))
    return OrdersPublic(items=[to_order_public(o) for o in page], next_cursor=next_cursor)


def _refuse_duplicate_skus(body: OrderCreate) -> None:
    """One line per SKU: a second line for the same SKU is refused, naming where it is."""
    first: dict[str, int] = {}
    errors = []
    for no, line in enumerate(body.lines):
        if line.sku in first:
            msg = f"SKU {line.sku!r} is already ordered in line {first[line.sku]}"
            errors.append(field_error(("body", "lines", no, "sku"), msg, "duplicate_sku", line.sku))
        first.setdefault(line.sku, no)
    if errors:
        raise invalid(errors)


async def _refuse_unknown_skus(session: AsyncSession, body: OrderCreate) -> None:
    unknown = set(await StockRepository(session).unknown_skus([line.sku for line in body.lines]))
    errors = [
        field_error(
            ("body", "lines", no, "sku"), f"unknown SKU {line.sku!r}", "unknown_sku", line.sku
        )
        for no, line in enumerate(body.lines)
        if line.sku in unknown
    ]
    if errors:
        raise invalid(errors)


def _refuse_unpaid(body: OrderCreate) -> None:
    """A card token, store credit, or both, that together pay the total: else 422."""
    total, credit = order_total(body.lines), body.payment.store_credit or 0
    if credit > total:
        msg = f"store credit {credit} is more than the order's total {total}"
        raise invalid([field_error(("body", "payment", "store_credit"), msg, "too_much", credit)])
    if body.payment.token is None and credit < total:
        msg = (
            "give a card token: the store credit does not cover the total"
            if credit
            else ("give a card token or store credit that covers the total")
        )
        raise invalid([field_error(("body", "payment", "token"), msg, "missing", None)])


async def _refuse_short_credit(session: AsyncSession, body: OrderCreate) -> None:
    """The customer's balance must cover the credit asked for now (the workflow holds it)."""
    if not (wanted := body.payment.store_credit):
        return
    balance = await store_credit.balance(session, body.customer.id, body.currency)
    if balance < wanted:
        raise Conflict(
            f"the customer's store credit is {format_money(balance, body.currency)}: "
            f"less than the {format_money(wanted, body.currency)} asked to pay with"
        )


def _channel_for(caller: Principal, body: OrderCreate) -> str:
    """The channel the order belongs to: the caller's own, or the one an admin names."""
    if caller.channel is not None:
        if body.channel not in (None, caller.channel):
            msg = f"this key places orders on its own channel {caller.channel!r} only"
            raise invalid([field_error(("body", "channel"), msg, "other_channel", body.channel)])
        return caller.channel
    if body.channel is None:
        msg = "name the order's channel: this key is not bound to one"
        raise invalid([field_error(("body", "channel"), msg, "missing", None)])
    return body.channel


async def _stored_or_new(
    session: AsyncSession, body: OrderCreate, key: str | None, channel: str, actor: str
) -> OrderRecord:
    """The order this channel's key already placed, else a new one in one transaction."""
    orders = OrderRepository(session)
    if key is not None and (stored := await orders.by_idempotency_key(channel, key)) is not None:
        return _replay(stored, body)
    await _refuse_unknown_skus(session, body)
    await _refuse_short_credit(session, body)
    order = to_order_record(body, key, channel, actor)
    try:
        await orders.create(order)
        await order_events.placed(session, order.id)  # order.created: with it
        await session.commit()
    except IntegrityError:
        await session.rollback()
        # The unique key decides between concurrent requests: the loser answers with the winner.
        if key is None or (stored := await orders.by_idempotency_key(channel, key)) is None:
            raise
        return _replay(stored, body)
    return order


def _replay(stored: OrderRecord, body: OrderCreate) -> OrderRecord:
    if stored.request_hash != request_hash(body):
        raise Conflict("this Idempotency-Key was already used for a different request body")
    return stored


async def _start(client: Client, order: OrderRecord, settings: Settings) -> None:
    try:
        await start_order(client, to_order_input(order, settings), settings.task_queue)
    except (RPCError, RuntimeError) as err:  # RuntimeError: the lazy client could not connect
        log.warning("order %s stored but not started: %s", order.id, err)
        raise WorkflowUnavailable(order.id) from err


async def _get_or_404(session: AsyncSession, order_id: str, caller: Principal) -> OrderRecord:
    """The order, if it exists in a channel the caller sees: else, to them, it does not."""
    order = await OrderRepository(session).get_with_details(order_id)
    if order is None or not caller.sees(order.channel):
        raise OrderNotFound(order_id)
    return order


def _position(cursor: str | None) -> PagePosition | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except BadCursor:
        loc = ("query", "cursor")
        raise invalid(
            [field_error(loc, "not a cursor from this API", "bad_cursor", cursor)]
        ) from None
