"""MailWorkflow: one customer e-mail, sent by one activity, retried while the mail server is down.
The relay sends each mail once itself (integration/dispatch.py) and starts this workflow only when
that failed.

The mail has its own workflow, never the order's: a mail server that is down delays mails, and
neither blocks nor fails an order. The activity records the mail as `sending` (with its
Message-ID) before handing it over and `sent` after, so a retry after a crash sends at most one
duplicate, under the same Message-ID. After `GIVE_UP` of failures the mail is recorded `failed`.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ActivityName
    from workflows.integration_contracts import FailMailInput, MailInput

A = ActivityName
SEND = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["UnknownMail"],
)
GIVE_UP = timedelta(days=3)
# A send talks to the server for at most SMTP_TIMEOUT a step (integration/mail/sender.py); a
# worker that dies mid-send delays the retry by this much.
SEND_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class MailWorkflow:
    """Send one recorded notification; keep trying for three days."""

    @workflow.run
    async def run(self, input: MailInput) -> None:
        if input.retry_at is not None and input.retry_at > workflow.now():
            await workflow.sleep(input.retry_at - workflow.now(), summary="Wait before a retry")
        try:
            await workflow.execute_activity(
                A.SEND_MAIL,
                input,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP,
                retry_policy=SEND,
                summary="Send the e-mail",
            )
        except ActivityError as err:
            why = str(err.cause or err)
            await workflow.execute_local_activity(
                A.FAIL_MAIL,
                FailMailInput(notification_id=input.notification_id, error=why or str(err)),
                start_to_close_timeout=timedelta(seconds=10),
                summary="Record the failure",
            )
