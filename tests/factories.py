"""Test data builders: a valid thing by default, overridden where a test cares."""

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from workflows.contracts import Address, OrderInput, OrderLine, OrderStatus
from workflows.progress import OrderProgress

# The one test address, as JSON (a request's, a stored row's); make_address() is its payload.
ADDRESS: dict[str, Any] = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def make_address(**overrides: Any) -> Address:
    return Address(**(ADDRESS | overrides))


def make_order_input(**overrides: Any) -> OrderInput:
    lines = overrides.pop("lines", [OrderLine(sku="SKU-RED-M", quantity=2, unit_price=1999)])
    fields: dict[str, Any] = {
        "order_id": f"o-{uuid4()}",
        "customer_id": "cust-42",
        "lines": lines,
        "currency": "EUR",
        "total": sum(line.quantity * line.unit_price for line in lines),
        "payment_token": "tok_visa",
        "shipping_address": make_address(),
    }
    return OrderInput(**(fields | overrides))


def make_progress(status: OrderStatus = OrderStatus.RESERVED, **fields: Any) -> OrderProgress:
    """An order's workflow state at `status` (of make_order_input's order), as refusals read it."""
    return OrderProgress(order=make_order_input(), status=status, **fields)


def make_order_body(
    lines: Sequence[tuple[str, int]], customer_id: str | None = None
) -> dict[str, Any]:
    """A POST /v1/orders body, as a storefront sends it: `lines` are (SKU, quantity) pairs."""
    return {
        "customer": {
            "id": customer_id or f"cust-{uuid4()}",
            "email": "ada@example.com",
            "name": "Ada",
        },
        "shipping_address": dict(ADDRESS),
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": 1999} for sku, quantity in lines
        ],
        "currency": "EUR",
        "payment": {"token": "tok_visa"},
        "channel": "default",  # a storefront key's own; an admin key must name one
    }
