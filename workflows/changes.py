"""A support change of an order's lines or address: how stock and payment follow it.

Deterministic code for the workflow (activities are called by name through `steps`).
"""

from dataclasses import replace

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import steps
from workflows.contracts import (
    ORDER_TOTAL,
    SKUS,
    Address,
    OrderInput,
    OrderLine,
    StockLine,
)
from workflows.rules import format_money, order_skus, order_total


def changed(before: OrderInput, lines: list[OrderLine], address: Address | None) -> OrderInput:
    """The order with its new lines (and total) and its new address, if any."""
    return replace(
        before,
        lines=lines,
        total=order_total(lines),
        shipping_address=address or before.shipping_address,
    )


async def change_stock_and_payment(
    before: OrderInput, after: OrderInput, authorized: bool, key: str
) -> None:
    """Reserve the extra units, adjust the authorization, then release what is no longer wanted.

    Each stage can only fail while it is still undoable: the extra reservation is refused whole
    (nothing changed), a refused authorization gives the extra units back, and the release at
    the end cannot fail for lack of stock. Raises ApplicationError (the change is refused).
    """
    order_id = before.order_id
    missing = await steps.change_reservation(order_id, _largest(before.lines, after.lines))
    if missing:
        raise ApplicationError(
            f"not enough stock of {', '.join(missing)}: "
            "the order and its reservation are unchanged",
            type="NotEnoughStock",
            non_retryable=True,
        )
    if authorized and after.total != before.total:
        try:
            await steps.adjust_authorization(before, after.total, key)
        except ActivityError as err:
            await steps.change_reservation(order_id, steps.as_stock(before.lines))
            declined = (
                isinstance(err.cause, ApplicationError) and err.cause.type == "PaymentDeclined"
            )
            why = "declined" if declined else "could not be adjusted"
            money = format_money(after.total, after.currency)
            raise ApplicationError(
                f"the payment for the new total {money} was {why}: the order is unchanged",
                type="PaymentNotAdjusted",
                non_retryable=True,
            ) from None
    await steps.change_reservation(order_id, steps.as_stock(after.lines))


def _largest(before: list[OrderLine], after: list[OrderLine]) -> list[StockLine]:
    """Per SKU the larger of the old and new quantity: the reservation while both may apply."""
    wanted = {line.sku: line.quantity for line in before}
    for line in after:
        wanted[line.sku] = max(wanted.get(line.sku, 0), line.quantity)
    return [StockLine(sku=sku, quantity=quantity) for sku, quantity in wanted.items()]


def publish(order: OrderInput) -> None:
    """Keep what ops search by that a change can alter current: the total and the SKUs."""
    workflow.upsert_search_attributes(
        [ORDER_TOTAL.value_set(order.total), SKUS.value_set(order_skus(order.lines))]
    )


def describe_change(before: OrderInput, after: OrderInput) -> str:
    """'SKU-A 2 → 3, SKU-B 1 → 0, address: 1 Main St, Berlin, DE, total 59.97 EUR'."""
    old = {line.sku: line.quantity for line in before.lines}
    new = {line.sku: line.quantity for line in after.lines}
    parts = [
        f"{sku} {old.get(sku, 0)} → {new.get(sku, 0)}"
        for sku in [*old, *(sku for sku in new if sku not in old)]
        if old.get(sku, 0) != new.get(sku, 0)
    ]
    if after.shipping_address != before.shipping_address:
        address = after.shipping_address
        parts.append(f"address: {address.line1}, {address.city}, {address.country}")
    if after.total != before.total:
        parts.append(f"total {format_money(after.total, after.currency)}")
    return ", ".join(parts) or "no change"
