"""Reaching Temporal and starting an order's (or a refund's, or a return's) workflow: the one
way the API, the worker's reconciler and the benchmark connect and start them (the workflow's
input comes from db/mapping.py's `to_order_input`)."""

from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from security.payloads import data_converter
from settings import Settings
from workflows.contracts import (
    CUSTOMER_ID,
    ON_HOLD,
    ORDER_ID,
    ORDER_STATUS,
    ORDER_TOTAL,
    REFUND_STATUS,
    RETURN_STATUS,
    SKUS,
    OrderInput,
    OrderStatus,
    order_workflow_id,
)
from workflows.integration_contracts import (
    DeliveryInput,
    MailInput,
    RetryNow,
    delivery_workflow_id,
    mail_workflow_id,
)
from workflows.mail import MailWorkflow
from workflows.money_contracts import (
    RefundInput,
    RefundStatus,
    refund_workflow_id,
)
from workflows.order import OrderWorkflow
from workflows.refund import RefundWorkflow
from workflows.return_contracts import ReturnInput, ReturnStatus, return_workflow_id
from workflows.returns import ReturnWorkflow
from workflows.rules import format_money, order_skus
from workflows.steps import describe_lines, stock_lines
from workflows.webhook_delivery import WebhookDeliveryWorkflow

START_TIMEOUT = timedelta(seconds=5)


async def connect_temporal(settings: Settings, *, lazy: bool = False) -> Client:
    """One Temporal client per process (TLS and API key for Temporal Cloud when configured), its
    payloads encrypted (security/payloads.py: no payload key, no client).

    `lazy`: connect on first use, so a process can start (and say so) while Temporal is down.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        api_key=settings.temporal_api_key,
        tls=settings.temporal_tls or settings.temporal_api_key is not None,
        lazy=lazy,
    )


async def start_order(client: Client, order: OrderInput, task_queue: str) -> None:
    """Start `order-{id}` unless it exists: a running one is reused, a closed one never restarts."""
    # A closed one raises WorkflowAlreadyStartedError: this start was a late duplicate.
    with suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            OrderWorkflow.run,
            order,
            id=order_workflow_id(order.order_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_ID, order.customer_id),
                    SearchAttributePair(ORDER_STATUS, OrderStatus.PENDING.value),
                    SearchAttributePair(ON_HOLD, False),
                    SearchAttributePair(ORDER_TOTAL, order.total),
                    SearchAttributePair(SKUS, order_skus(order.lines)),
                ]
            ),
            static_summary=f"Order {order.order_id}: {describe_lines(stock_lines(order))}",
            rpc_timeout=START_TIMEOUT,  # a stalled Temporal turns into a 503, not a hung request
        )


async def start_refund(client: Client, refund: RefundInput, task_queue: str) -> None:
    """Start `refund-{id}` unless it exists, as `start_order` does for an order."""
    with suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            RefundWorkflow.run,
            refund,
            id=refund_workflow_id(refund.refund_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(REFUND_STATUS, RefundStatus.PENDING.value),
                    SearchAttributePair(ORDER_ID, refund.order_id),
                ]
            ),
            static_summary=f"Refund {format_money(refund.amount, refund.currency)} "
            f"of order {refund.order_id} ({refund.method.replace('_', ' ')})",
            rpc_timeout=START_TIMEOUT,
        )


async def start_return(client: Client, input: ReturnInput, task_queue: str) -> None:
    """Start `return-{id}` unless it exists, as `start_order` does for an order."""
    lines = ", ".join(f"{line.quantity} × {line.sku}" for line in input.lines)
    with suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            ReturnWorkflow.run,
            input,
            id=return_workflow_id(input.return_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(RETURN_STATUS, ReturnStatus.REQUESTED.value),
                    SearchAttributePair(ORDER_ID, input.order_id),
                    SearchAttributePair(CUSTOMER_ID, input.customer_id),
                ]
            ),
            static_summary=f"Return of {lines} from order {input.order_id} "
            f"({input.resolution.replace('_', ' ')})",
            rpc_timeout=START_TIMEOUT,
        )


async def start_resolution(
    client: Client, refunds: Sequence[RefundInput], order: OrderInput | None, task_queue: str
) -> None:
    """Start what a return's or claim's resolution placed: its card refunds, then its order
    (exchange or reship). Each start is idempotent; the reconciler starts what one missed."""
    for refund in refunds:
        await start_refund(client, refund, task_queue)
    if order is not None:
        await start_order(client, order, task_queue)


async def start_delivery(client: Client, input: DeliveryInput, task_queue: str) -> None:
    """Start `webhook-delivery-{id}` unless it runs. Called for a delivery that is `pending`, so
    a closed run (a retried delivery, or one ops terminated) runs again: each attempt checks
    the row first, so a delivery that already ended is never sent again by it."""
    with suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            WebhookDeliveryWorkflow.run,
            input,
            id=delivery_workflow_id(input.delivery_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary="Deliver an event to a webhook endpoint",
            rpc_timeout=START_TIMEOUT,
        )


async def retry_delivery(client: Client, delivery_id: str, task_queue: str, actor: str) -> None:
    """Try the delivery again now: a running workflow skips its wait (signal), a closed one runs
    again from its first step (signal-with-start; the delivery row was set back to pending)."""
    await client.start_workflow(
        WebhookDeliveryWorkflow.run,
        DeliveryInput(delivery_id=delivery_id),
        id=delivery_workflow_id(delivery_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal="retry_now",
        start_signal_args=[RetryNow(requested_by=actor)],
        static_summary=f"Deliver again (asked by {actor})",
        rpc_timeout=START_TIMEOUT,
    )


async def start_mail(client: Client, input: MailInput, summary: str, task_queue: str) -> None:
    """Start `mail-{id}` unless it exists: one send per notification."""
    with suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            MailWorkflow.run,
            input,
            id=mail_workflow_id(input.notification_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=summary,
            rpc_timeout=START_TIMEOUT,
        )
