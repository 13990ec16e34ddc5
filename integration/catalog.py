"""The one table of event types: every business fact the OMS tells the world about.

An event is written in the transaction of the change it describes (db/events.py). Its `data` holds
a snapshot of the resource after the change under the aggregate's name (`data.order`,
`data.refund`, ...) and, for some types, what changed (`from`/`to`, the shipment, the reason).
README "Events and webhooks" lists them with an example each (`python -m integration.catalog`).
"""

from dataclasses import dataclass
from enum import StrEnum


class Aggregate(StrEnum):
    """What an event is about; each aggregate's events are numbered 1, 2, 3, ... (`sequence`)."""

    ORDER = "order"
    CUSTOMER = "customer"
    PAYMENT = "payment"  # an order's payment: its id is the order's
    REFUND = "refund"
    DOCUMENT = "document"  # invoices and credit notes: the document's number
    STORE_CREDIT = "store_credit"  # a customer's balance in one currency: "{customer}:{currency}"
    RETURN = "return"
    CLAIM = "claim"
    WEBHOOK_ENDPOINT = "webhook_endpoint"


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_CHANGED = "order.changed"
    ORDER_HELD = "order.held"
    ORDER_RELEASED = "order.released"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_COMPLETED = "order.completed"
    ORDER_DELAYED = "order.delayed"
    CUSTOMER_UPDATED = "customer.updated"
    PAYMENT_CAPTURED = "payment.captured"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    INVOICE_ISSUED = "invoice.issued"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    STORE_CREDIT_CHANGED = "store_credit.changed"
    RETURN_REQUESTED = "return.requested"
    RETURN_APPROVED = "return.approved"
    RETURN_DECLINED = "return.declined"
    RETURN_AWAITING_RECEIPT = "return.awaiting_receipt"
    RETURN_RECEIVED = "return.received"
    RETURN_COMPLETED = "return.completed"
    RETURN_EXPIRED = "return.expired"
    RETURN_CANCELLED = "return.cancelled"
    CLAIM_CREATED = "claim.created"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"


@dataclass(frozen=True, kw_only=True)
class EventKind:
    aggregate: Aggregate
    meaning: str  # one line for the README's catalog


E, A = EventType, Aggregate
CATALOG: dict[EventType, EventKind] = {
    E.ORDER_CREATED: EventKind(aggregate=A.ORDER, meaning="a storefront placed the order"),
    E.ORDER_STATUS_CHANGED: EventKind(
        aggregate=A.ORDER, meaning="the order moved from one status to another (`from`, `to`)"
    ),
    E.ORDER_CHANGED: EventKind(
        aggregate=A.ORDER, meaning="support changed its lines or address (`changes`)"
    ),
    E.ORDER_HELD: EventKind(aggregate=A.ORDER, meaning="put on hold (`reason`)"),
    E.ORDER_RELEASED: EventKind(aggregate=A.ORDER, meaning="released from its hold"),
    E.ORDER_CANCELLED: EventKind(
        aggregate=A.ORDER, meaning="cancelled, its steps undone (`reason`)"
    ),
    E.ORDER_SHIPPED: EventKind(
        aggregate=A.ORDER, meaning="handed to the carrier (`shipment`: carrier, tracking number)"
    ),
    E.ORDER_DELIVERED: EventKind(aggregate=A.ORDER, meaning="the carrier confirmed delivery"),
    E.ORDER_COMPLETED: EventKind(aggregate=A.ORDER, meaning="nothing left to do for it"),
    E.ORDER_DELAYED: EventKind(
        aggregate=A.ORDER, meaning="not shipped within `OMS_SHIP_SLA` of placement (`due_at`)"
    ),
    E.CUSTOMER_UPDATED: EventKind(
        aggregate=A.CUSTOMER,
        meaning="the customer view changed (an order, money spent or credited, store credit)",
    ),
    E.PAYMENT_CAPTURED: EventKind(
        aggregate=A.PAYMENT, meaning="the order's money was taken (card and store credit)"
    ),
    E.REFUND_SUCCEEDED: EventKind(
        aggregate=A.REFUND, meaning="money went back, to the card or as store credit"
    ),
    E.REFUND_FAILED: EventKind(aggregate=A.REFUND, meaning="the gateway refused the refund"),
    E.INVOICE_ISSUED: EventKind(aggregate=A.DOCUMENT, meaning="an invoice was issued at capture"),
    E.CREDIT_NOTE_ISSUED: EventKind(
        aggregate=A.DOCUMENT, meaning="a credit note was issued for a refund"
    ),
    E.STORE_CREDIT_CHANGED: EventKind(
        aggregate=A.STORE_CREDIT,
        meaning="a customer's store credit balance moved (`delta`, `kind`)",
    ),
    E.RETURN_REQUESTED: EventKind(aggregate=A.RETURN, meaning="a return was asked for"),
    E.RETURN_APPROVED: EventKind(aggregate=A.RETURN, meaning="approved (or auto-approved)"),
    E.RETURN_DECLINED: EventKind(aggregate=A.RETURN, meaning="declined by support (`reason`)"),
    E.RETURN_AWAITING_RECEIPT: EventKind(
        aggregate=A.RETURN, meaning="a return label was issued (`return.label`)"
    ),
    E.RETURN_RECEIVED: EventKind(aggregate=A.RETURN, meaning="everything expected arrived"),
    E.RETURN_COMPLETED: EventKind(aggregate=A.RETURN, meaning="its resolution is done"),
    E.RETURN_EXPIRED: EventKind(
        aggregate=A.RETURN, meaning="nothing arrived within the receive window"
    ),
    E.RETURN_CANCELLED: EventKind(aggregate=A.RETURN, meaning="cancelled before receipt"),
    E.CLAIM_CREATED: EventKind(
        aggregate=A.CLAIM, meaning="support opened a claim (missing, damaged, wrong item)"
    ),
    E.WEBHOOK_ENDPOINT_DISABLED: EventKind(
        aggregate=A.WEBHOOK_ENDPOINT,
        meaning="an endpoint failed every delivery for 3 days and was disabled",
    ),
}


def aggregate_of(event_type: EventType) -> Aggregate:
    return CATALOG[event_type].aggregate
