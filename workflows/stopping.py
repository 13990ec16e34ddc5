"""Why an order stops before completing: cancelled (by support or ops) or failed (by a step)."""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from workflows.contracts import Actor, CancelRequest, OrderStatus
from workflows.money_contracts import MoneyError

S = OrderStatus


class OrderStopped(Exception):
    """Raised inside the workflow to stop the happy path: cancellation or a business failure."""

    def __init__(
        self, status: OrderStatus, reason: str, actor: str = Actor.WORKFLOW, note: str | None = None
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.actor, self.note = status, reason, actor, note


def cancelled_by_ops() -> OrderStopped:
    """A cancellation requested through Temporal itself (UI, CLI), not through our API."""
    return OrderStopped(S.CANCELLED, "cancelled_by_ops", "ops")


def cancelled_by_support(request: CancelRequest) -> OrderStopped:
    """A cancellation accepted by the `cancel` Update (or signal): the agent and their reason."""
    return OrderStopped(S.CANCELLED, "cancelled_by_support", request.requested_by, request.reason)


def failed_step(step: str, err: ActivityError) -> OrderStopped:
    """A step's activity failed for good: declined payment, cancellation, or `<step>_failed`."""
    cause = err.cause
    if isinstance(cause, CancelledError):  # only a workflow cancellation cancels our steps
        return cancelled_by_ops()
    if isinstance(cause, ApplicationError) and cause.type == "PaymentDeclined":
        return OrderStopped(S.FAILED, "payment_declined")
    if isinstance(cause, ApplicationError) and cause.type == MoneyError.STORE_CREDIT_INSUFFICIENT:
        return OrderStopped(S.FAILED, "store_credit_insufficient")
    workflow.logger.error("step %s failed: %s", step, cause)
    return OrderStopped(S.FAILED, f"{step}_failed")
