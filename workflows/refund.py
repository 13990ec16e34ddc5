"""RefundWorkflow: one refund, from its claim to the money back and the credit note, durably."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():  # deterministic modules only
    from workflows.contracts import REFUND_STATUS, ActivityName, PaymentResult
    from workflows.money_contracts import (
        CompleteRefundResult,
        FailRefundInput,
        MoneyError,
        RefundInput,
        RefundMethod,
        RefundPaymentInput,
        RefundRef,
        RefundResult,
        RefundStatus,
    )
    from workflows.rules import format_money
    from workflows.steps import OUTSIDE_CALL, OWN_DB, SHORT

A = ActivityName
# The gateway: transient errors retry for a day (a refund must not be lost to an outage);
# a refusal is final.
GATEWAY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[MoneyError.REFUND_DECLINED],
)
GATEWAY_GIVE_UP = timedelta(days=1)


@workflow.defn
class RefundWorkflow:
    """Claimed (by whoever started it: its row is `pending`) → money back (the card's refund,
    or store credit) → credit note → `succeeded`; or, refused by the gateway, `failed` with the
    reason and the claim given back, so support can refund the same sum as store credit."""

    @workflow.run
    async def run(self, input: RefundInput) -> RefundResult:
        if input.method is RefundMethod.ORIGINAL_PAYMENT:
            refused = await self._refund_card(input)
            if refused is not None:
                return await self._fail(input, refused)
        done = await workflow.execute_activity(
            A.COMPLETE_REFUND,
            RefundRef(refund_id=input.refund_id),
            result_type=CompleteRefundResult,
            start_to_close_timeout=SHORT,
            retry_policy=OWN_DB,
            summary="Issue the credit note and book the refund",
        )
        workflow.upsert_search_attributes([REFUND_STATUS.value_set(RefundStatus.SUCCEEDED)])
        return RefundResult(
            refund_id=input.refund_id, status=RefundStatus.SUCCEEDED, credit_note=done.credit_note
        )

    async def _refund_card(self, input: RefundInput) -> str | None:
        """The card's refund; the gateway's reason when it refused (None: the money is back)."""
        request = RefundPaymentInput(
            refund_id=input.refund_id,
            order_id=input.order_id,
            amount=input.amount,
            currency=input.currency,
        )
        try:
            await workflow.execute_activity(
                A.REFUND_PAYMENT,
                request,
                result_type=PaymentResult,
                start_to_close_timeout=OUTSIDE_CALL,
                schedule_to_close_timeout=GATEWAY_GIVE_UP,
                retry_policy=GATEWAY,
                summary=f"Refund {format_money(input.amount, input.currency)} to the card",
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == MoneyError.REFUND_DECLINED:
                return cause.message
            # Retried for a day without an answer: fail it, so its claim is not held forever.
            workflow.logger.error(
                "refund %s: the gateway gave no answer: %s", input.refund_id, cause
            )
            return "the payment gateway did not answer"
        return None

    async def _fail(self, input: RefundInput, reason: str) -> RefundResult:
        await workflow.execute_activity(
            A.FAIL_REFUND,
            FailRefundInput(refund_id=input.refund_id, reason=reason),
            start_to_close_timeout=SHORT,
            retry_policy=OWN_DB,
            summary=f"Refund refused: {reason}",
        )
        workflow.upsert_search_attributes([REFUND_STATUS.value_set(RefundStatus.FAILED)])
        return RefundResult(
            refund_id=input.refund_id, status=RefundStatus.FAILED, failure_reason=reason
        )
