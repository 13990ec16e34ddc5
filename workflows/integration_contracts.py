"""The payloads of the integration module's workflows: a webhook delivery (`webhook-delivery-{id}`),
a customer e-mail (`mail-{id}`), and the order's lateness record. Durable: only add fields, with
defaults."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx
    FAILED = "failed"  # anything else: retried on the schedule
    GONE = "gone"  # the endpoint was deleted or disabled, or the delivery already ended


@dataclass(frozen=True, kw_only=True)
class DeliveryInput:
    """A delivery to make, or (`attempts_made` > 0) to go on with after the relay's own first
    attempt failed at `first_attempt_at`: the next is due at `next_attempt_at`."""

    delivery_id: str
    attempts_made: int = 0
    first_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AttemptInput:
    """One POST; `next_attempt_at` is when the workflow will try again if this one fails
    (None: it will not), recorded so that the deliveries list can say."""

    delivery_id: str
    attempt: int
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AttemptResult:
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class GiveUpInput:
    """The delivery failed for the whole retry window since `failing_since`: it ends `failed`,
    and its endpoint is disabled if nothing reached it since then either."""

    delivery_id: str
    failing_since: datetime


@dataclass(frozen=True, kw_only=True)
class RetryNow:
    """Signal (POST /v1/webhook-deliveries/{id}/retry): skip the wait, try again at once."""

    requested_by: str = ""


@dataclass(frozen=True, kw_only=True)
class MailInput:
    """A mail to send; `retry_at`: not before then (the relay's own first send failed)."""

    notification_id: str
    retry_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class FailMailInput:
    notification_id: str
    error: str


@dataclass(frozen=True, kw_only=True)
class RecordDelayInput:
    """The order was not shipped by `due_at`: record it once (order.delayed)."""

    order_id: str
    due_at: datetime


def delivery_workflow_id(delivery_id: str) -> str:
    return f"webhook-delivery-{delivery_id}"


def mail_workflow_id(notification_id: str) -> str:
    return f"mail-{notification_id}"
