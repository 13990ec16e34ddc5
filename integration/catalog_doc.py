"""The event catalog as README "Events and webhooks" shows it: each type, what it means and an
example of its payload, built by the same snapshot code the events are written with.

    python -m integration.catalog_doc      prints the Markdown that README carries between
                                           its `events:begin` and `events:end` markers
tests/unit/test_event_catalog.py fails when the two differ.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from db import snapshots
from db.models import (
    DocumentRecord,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    RefundRecord,
    ReturnLineRecord,
    ReturnRecord,
    ShipmentRecord,
    StoreCreditAccountRecord,
)
from integration.catalog import CATALOG, EventType

E = EventType
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
ORDER_ID, CUSTOMER_ID, RETURN_ID = "0f6c3c1e-4b7a-4d2e-9a51-3b1f2c8d7e60", "cust-1042", "ret_8d2c41"
ADDRESS = {
    "name": "Grete Müller",
    "line1": "Torstraße 1",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10119",
    "country": "DE",
}
CUSTOMER_VIEW = {
    "id": CUSTOMER_ID,
    "email": "grete@example.de",
    "name": "Grete Müller",
    "addresses": [ADDRESS],
    "orders_count": 3,
    "total_spent": [{"currency": "EUR", "amount": 11994}],
    "first_order_at": "2026-10-02T17:12:44+00:00",
    "last_order_at": AT.isoformat(),
    "store_credit": [{"currency": "EUR", "balance": 500}],
}


def _order(status: str = "shipped") -> dict[str, Any]:
    order = OrderRecord(
        id=ORDER_ID,
        channel="eu",
        status=status,
        status_reason=None,
        customer_id=CUSTOMER_ID,
        customer_email="grete@example.de",
        customer_name="Grete Müller",
        shipping_address=ADDRESS,
        currency="EUR",
        total=3998,
        store_credit=0,
        exchange_for=None,
        placed_by_return=None,
        created_at=AT,
        updated_at=AT,
        lines=[OrderLineRecord(line_no=0, sku="SKU-RED-M", quantity=2, unit_price=1999)],
        shipments=[
            ShipmentRecord(
                id="shp_5c1a", carrier="SimPost", tracking_number="SP0042", status="in_transit"
            )
        ],
    )
    return snapshots.order(order)


def _refund(status: str) -> dict[str, Any]:
    failed = status == "failed"
    return snapshots.refund(
        RefundRecord(
            id="rfd_71b0",
            order_id=ORDER_ID,
            status=status,
            amount=1999,
            currency="EUR",
            method="original_payment",
            reason="one arrived broken",
            lines=[{"sku": "SKU-RED-M", "quantity": 1}],
            failure_reason="account closed" if failed else None,
            credit_note=None if failed else "CN-2026-000017",
            return_id=None,
            created_at=AT,
            completed_at=AT,
        )
    )


def _document(kind: str) -> dict[str, Any]:
    credit = kind == "credit_note"
    total = 1999 if credit else 3998
    return snapshots.document(
        DocumentRecord(
            number="CN-2026-000017" if credit else "INV-2026-000231",
            kind=kind,
            order_id=ORDER_ID,
            refund_id="rfd_71b0" if credit else None,
            refers_to="INV-2026-000231" if credit else None,
            issued_at=AT,
            currency="EUR",
            lines=[
                {
                    "sku": "SKU-RED-M",
                    "quantity": total // 1999,
                    "unit_price": 1999,
                    "tax_rate": "19",
                    "net": total - total * 19 // 119,
                }
            ],
            tax_breakdown=[
                {"rate": "19", "net": total - total * 19 // 119, "tax": total * 19 // 119}
            ],
            net_total=total - total * 19 // 119,
            tax_total=total * 19 // 119,
            total=total,
            paid_card=total,
            paid_store_credit=0,
        )
    )


def _return(status: str) -> dict[str, Any]:
    received = status in ("received", "completed")
    return snapshots.return_(
        ReturnRecord(
            id=RETURN_ID,
            kind="return",
            order_id=ORDER_ID,
            customer_id=CUSTOMER_ID,
            channel="eu",
            status=status,
            resolution="refund",
            claim_type=None,
            advance=False,
            exchange_lines=[],
            exchange_order_id=None,
            label_carrier="SimPost" if status != "requested" else None,
            label_tracking_number="SR0007" if status != "requested" else None,
            receive_by=datetime(2026, 12, 21, 9, 30, tzinfo=UTC),
            created_at=AT,
            updated_at=AT,
            lines=[
                ReturnLineRecord(
                    line_no=0,
                    sku="SKU-RED-M",
                    quantity=1,
                    reason="damaged",
                    resellable=0,
                    damaged=1 if received else 0,
                )
            ],
        )
    )


def _data(event: EventType) -> dict[str, Any]:
    name = event.value
    if name.startswith("order."):
        return _order_data(event)
    if event is E.CUSTOMER_UPDATED:
        return {"customer": CUSTOMER_VIEW}
    if event is E.PAYMENT_CAPTURED:
        payment = PaymentRecord(
            order_id=ORDER_ID,
            status="captured",
            currency="EUR",
            authorized=0,
            captured=3998,
            refunded=0,
            store_credit=0,
            updated_at=AT,
        )
        return {"payment": snapshots.payment(payment)}
    if name.startswith("refund."):
        return {"refund": _refund(name.removeprefix("refund."))}
    if event in (E.INVOICE_ISSUED, E.CREDIT_NOTE_ISSUED):
        return {"document": _document(name.removesuffix(".issued"))}
    if event is E.STORE_CREDIT_CHANGED:
        account = StoreCreditAccountRecord(
            customer_id=CUSTOMER_ID, currency="EUR", balance=2499, updated_at=AT
        )
        return {
            "store_credit": snapshots.store_credit(account),
            "kind": "issued",
            "delta": 1999,
            "order_id": ORDER_ID,
            "refund_id": "rfd_71b0",
            "reason": "refund rfd_71b0",
        }
    if name.startswith("return."):
        status = name.removeprefix("return.")
        return {"return": _return(status), "reason": None, "by": "workflow"}
    if event is E.CLAIM_CREATED:
        claim = _return("completed") | {
            "kind": "claim",
            "claim_type": "missing",
            "resolution": "reship",
            "label": None,
        }
        return {"return": claim}
    endpoint = {
        "id": "we_3f9a",
        "url": "https://crm.example/hooks",
        "events": ["*"],
        "description": "CRM",
        "disabled": True,
        "disabled_reason": "every delivery failed for 3 days",
        "created_at": AT.isoformat(),
        "updated_at": AT.isoformat(),
    }
    return {"webhook_endpoint": endpoint, "reason": "every delivery failed for 3 days"}


def _order_data(event: EventType) -> dict[str, Any]:
    extras: dict[EventType, dict[str, Any]] = {
        E.ORDER_CREATED: {},
        E.ORDER_STATUS_CHANGED: {"from": "packed", "to": "shipped", "reason": None},
        E.ORDER_CHANGED: {"changes": ["lines", "total"], "by": "user:ana"},
        E.ORDER_HELD: {
            "reason": "customer_request",
            "note": "wants to add a gift card",
            "by": "user:ana",
        },
        E.ORDER_RELEASED: {"by": "user:ana"},
        E.ORDER_CANCELLED: {
            "reason": "cancelled_by_support",
            "note": "customer changed their mind",
            "by": "user:ana",
        },
        E.ORDER_SHIPPED: {"shipment": {"carrier": "SimPost", "tracking_number": "SP0042"}},
        E.ORDER_DELIVERED: {},
        E.ORDER_COMPLETED: {},
        E.ORDER_DELAYED: {"due_at": "2026-12-09T09:30:00+00:00"},
    }
    return {"order": _order()} | extras[event]


def example(event: EventType) -> dict[str, Any]:
    """An envelope of `event` as the feed serves it and a webhook carries it."""
    aggregate = CATALOG[event].aggregate.value
    ids = {
        "order": ORDER_ID,
        "customer": CUSTOMER_ID,
        "payment": ORDER_ID,
        "refund": "rfd_71b0",
        "document": "INV-2026-000231",
        "store_credit": f"{CUSTOMER_ID}:EUR",
        "return": RETURN_ID,
        "claim": RETURN_ID,
        "webhook_endpoint": "we_3f9a",
    }
    return {
        "id": "evt_48211",
        "type": event.value,
        "timestamp": AT.isoformat(),
        "aggregate": {"type": aggregate, "id": ids[aggregate], "sequence": 7},
        "data": _data(event),
    }


def markdown() -> str:
    """The catalog: a table of every type, then an example payload of each (a snapshot shown
    in full once, at the first type that carries it, then named)."""
    rows = ["| type | about | when |", "|---|---|---|"]
    rows += [f"| `{e.value}` | {k.aggregate.value} | {k.meaning} |" for e, k in CATALOG.items()]
    first = json.dumps(example(E.ORDER_SHIPPED), indent=2, ensure_ascii=False, default=_plain)
    envelope = "A whole event (`order.shipped`), as the feed and a webhook carry it:\n\n"
    envelope += f"```json\n{first}\n```\n\nThe `data` of each type:\n"
    shown: dict[str, str] = {E.ORDER_SHIPPED.value: "order"}
    examples = []
    for event in CATALOG:
        data = example(event)["data"]
        full = False
        for key, value in list(data.items()):
            if isinstance(value, dict) and key in shown.values():
                data[key] = f"… the {key}, as above"
            elif isinstance(value, dict):
                shown[event.value], full = key, True
        text = json.dumps(data, indent=2 if full else None, ensure_ascii=False, default=_plain)
        examples.append(
            f"- `{event.value}`\n  ```json\n  {text.replace(chr(10), chr(10) + '  ')}\n  ```"
        )
    return "\n".join(rows) + "\n\n" + envelope + "\n".join(examples) + "\n"


def _plain(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


if __name__ == "__main__":
    print(markdown(), end="")  # noqa: T201 (the command's output)
