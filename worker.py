"""The worker process: builds the activities on one connection pool, runs the workflows and them,
and beside them the reconciler and the relay (events to webhook deliveries and e-mails)."""

import asyncio
import logging
from collections.abc import Callable
from typing import TypedDict

from temporalio.client import Client
from temporalio.worker import PollerBehavior, PollerBehaviorSimpleMaximum, Worker

from activities.books import BookActivities
from activities.inventory import InventoryActivities
from activities.mail import MailActivities
from activities.payments import PaymentActivities
from activities.projection import ProjectionActivities
from activities.returns import ReturnActivities
from activities.shipping import ShippingActivities
from activities.warehouse import WarehouseActivities
from activities.webhooks import WebhookActivities
from db.payments import PaymentLedger
from db.session import SessionFactory, create_engine, create_session_factory
from integration.relay import Relay
from reconciler import reconcile_forever
from settings import Settings, get_settings
from simulation.carrier import SimulatedCarrier
from simulation.payments import SimulatedPaymentGateway
from simulation.warehouse import SimulatedWarehouse
from simulation.world import SimulationConfig
from temporal_client import connect_temporal
from workflows.mail import MailWorkflow
from workflows.order import OrderWorkflow
from workflows.refund import RefundWorkflow
from workflows.returns import ReturnWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow


def build_activities(sessions: SessionFactory, settings: Settings) -> list[Callable[..., object]]:
    """Every activity of an order, a refund, a return, a webhook delivery and a customer e-mail,
    wired to PostgreSQL, the simulated outside world, real HTTP and SMTP."""
    world = SimulationConfig.from_settings(settings)
    inventory = InventoryActivities(sessions)
    payments = PaymentActivities(SimulatedPaymentGateway(sessions, world), PaymentLedger(sessions))
    money = BookActivities(sessions, settings)
    warehouse = WarehouseActivities(SimulatedWarehouse(sessions, world))
    carrier = SimulatedCarrier(sessions, world)
    shipping = ShippingActivities(carrier)
    projection = ProjectionActivities(sessions)
    returns = ReturnActivities(sessions, settings, carrier)
    webhooks = WebhookActivities(sessions, settings)
    mail = MailActivities(sessions, settings)
    return [
        inventory.reserve_stock,
        inventory.change_reservation,
        inventory.release_stock,
        inventory.ship_stock,
        payments.authorize_payment,
        payments.adjust_authorization,
        payments.capture_payment,
        payments.void_payment,
        payments.refund_payment,
        money.hold_store_credit,
        money.release_store_credit,
        money.issue_invoice,
        money.complete_refund,
        money.fail_refund,
        warehouse.pick_order,
        warehouse.pack_order,
        warehouse.cancel_pick,
        warehouse.cancel_pack,
        shipping.create_shipment,
        shipping.void_shipment,
        shipping.confirm_delivery,
        projection.record_status,
        projection.record_audit,
        projection.record_delay,
        returns.record_return_status,
        returns.create_return_label,
        returns.void_return_label,
        returns.receive_return_units,
        returns.resolve_return,
        returns.settle_return,
        webhooks.deliver_webhook,
        webhooks.give_up_webhook,
        mail.send_mail,
        mail.fail_mail,
    ]


class WorkerOptions(TypedDict):
    """The Worker knobs that decide throughput, shared with the benchmark's no-op baseline."""

    max_concurrent_activities: int
    max_concurrent_workflow_tasks: int
    max_cached_workflows: int
    workflow_task_poller_behavior: PollerBehavior
    activity_task_poller_behavior: PollerBehavior


def worker_options() -> WorkerOptions:
    """Slots, cache and pollers of every worker process (the SDK's defaults, spelled out)."""
    return WorkerOptions(
        max_concurrent_activities=100,
        max_concurrent_workflow_tasks=100,
        max_cached_workflows=1000,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=5),
        activity_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=5),
    )


def build_worker(client: Client, sessions: SessionFactory, settings: Settings) -> Worker:
    """A worker for the configured task queue (`OMS_TASK_QUEUE`) with every workflow (order,
    refund, return, webhook delivery, mail) and all their activities."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[
            OrderWorkflow,
            RefundWorkflow,
            ReturnWorkflow,
            WebhookDeliveryWorkflow,
            MailWorkflow,
        ],
        activities=build_activities(sessions, settings),
        **worker_options(),
    )


async def main() -> None:
    """Run the worker, the reconciler and the relay until interrupted."""
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request at INFO: a line per webhook POST, whose attempt is recorded anyway
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings.server_secret()  # at start, not at the first webhook: it unseals their secrets
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    client = await connect_temporal(settings)
    reconciler = asyncio.create_task(reconcile_forever(client, sessions, settings))
    relay = asyncio.create_task(Relay(client, sessions, settings).run_forever())
    try:
        await build_worker(client, sessions, settings).run()
    finally:
        reconciler.cancel()
        relay.cancel()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
