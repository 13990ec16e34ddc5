"""Stand-in activities for workflow tests: they record what the workflow asked, in order.

Each has the registered name of the real one. A test can make one fail, block it on a gate
(an asyncio.Event the test opens; `record_status:<status>` blocks one transition's record), or
script what `reserve_stock` answers.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.contracts import (
    PaymentResult,
    RecordAuditInput,
    RecordStatusInput,
    ReserveStockResult,
    Shipment,
    WarehouseResult,
)
from workflows.integration_contracts import AttemptOutcome, AttemptResult
from workflows.money_contracts import CompleteRefundResult, InvoiceResult
from workflows.return_contracts import (
    ReceiveUnitsResult,
    RecordReturnStatusInput,
    ResolveReturnResult,
    ReturnLabel,
    ReturnSettled,
)

RECORDERS: dict[str, type] = {
    "record_status": RecordStatusInput,
    "record_audit": RecordAuditInput,
    "record_return_status": RecordReturnStatusInput,
}
RETURN_LABEL = ReturnLabel(carrier="SimPost", tracking_number="SR1", shipment_id="rshp-1")
SHIPMENT = Shipment(
    shipment_id="shp-1", carrier="SimPost", tracking_number="SP1", status="in_transit"
)


@dataclass
class FakeWorld:
    """The outside world as a workflow test wants it."""

    short: list[list[str]] = field(default_factory=list)  # successive reserve answers, then OK
    fail: dict[str, Exception] = field(default_factory=dict)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # names, as each activity returns or fails
    records: list[RecordStatusInput] = field(default_factory=list)
    audits: list[RecordAuditInput] = field(default_factory=list)
    short_change: list[list[str]] = field(default_factory=list)  # change_reservation answers
    args: dict[str, list[Any]] = field(default_factory=dict)  # each call's argument, as JSON
    return_records: list[RecordReturnStatusInput] = field(default_factory=list)
    resolved: ResolveReturnResult = field(default_factory=ResolveReturnResult)  # resolve_return's
    covered: int = 0  # what settle_return answers the returned goods cover
    # deliver_webhook's successive outcomes, then delivered
    posts: list[AttemptOutcome] = field(default_factory=list)

    def decline_payment(self) -> None:
        self.fail["authorize_payment"] = ApplicationError(
            "card declined", type="PaymentDeclined", non_retryable=True
        )

    def gate(self, name: str) -> asyncio.Event:
        return self.gates.setdefault(name, asyncio.Event())

    @property
    def statuses(self) -> list[str]:
        return [record.entry.status.value for record in self.records]

    @property
    def return_statuses(self) -> list[str]:
        return [record.entry.status.value for record in self.return_records]

    def activities(self) -> list[Callable[..., Any]]:
        answers: dict[str, Callable[[Any], Any]] = {
            "reserve_stock": lambda _: ReserveStockResult(
                reserved=not self.short, missing=self.short.pop(0) if self.short else []
            ),
            "authorize_payment": lambda _: PaymentResult(payment_id="auth-1"),
            "capture_payment": lambda _: PaymentResult(payment_id="cap-1"),
            "pick_order": lambda _: WarehouseResult(reference="pick-1"),
            "pack_order": lambda _: WarehouseResult(reference="pack-1"),
            "create_shipment": lambda _: SHIPMENT,
            "record_status": self.records.append,
            "record_audit": self.audits.append,
            "change_reservation": lambda _: ReserveStockResult(
                reserved=True, missing=self.short_change.pop(0) if self.short_change else []
            ),
            "adjust_authorization": lambda _: PaymentResult(payment_id="adj-1"),
            "issue_invoice": lambda _: InvoiceResult(number="INV-2026-000001"),
            "refund_payment": lambda _: PaymentResult(payment_id="ref-1"),
            "complete_refund": lambda _: CompleteRefundResult(credit_note="CN-2026-000001"),
            "record_return_status": self.return_records.append,
            "create_return_label": lambda _: RETURN_LABEL,
            "receive_return_units": lambda _: ReceiveUnitsResult(),
            "resolve_return": lambda _: self.resolved,
            "settle_return": lambda arg: ReturnSettled(
                return_id=arg["return_id"], covered=self.covered
            ),
            "deliver_webhook": lambda _: self._post(),
        }
        no_answer = ["release_stock", "ship_stock", "void_payment", "cancel_pick", "cancel_pack"]
        no_answer += ["void_shipment", "confirm_delivery", "hold_store_credit"]
        no_answer += ["release_store_credit", "fail_refund", "void_return_label", "record_delay"]
        no_answer += ["give_up_webhook", "send_mail", "fail_mail"]
        answers |= {name: lambda _: None for name in no_answer}
        return [self._fake(name, answer) for name, answer in answers.items()]

    def _post(self) -> AttemptResult:
        outcome = self.posts.pop(0) if self.posts else AttemptOutcome.DELIVERED
        failed = outcome is AttemptOutcome.FAILED
        return AttemptResult(outcome=outcome, status_code=503 if failed else 200)

    def _fake(self, name: str, answer: Callable[[Any], Any]) -> Callable[..., Any]:
        async def fake(arg: Any) -> Any:
            if name not in RECORDERS:
                self.calls.append(name)
                self.args.setdefault(name, []).append(arg)
            key = f"{name}:{arg.entry.status}" if name == "record_status" else name
            if (gate := self.gates.get(key)) is not None:
                await gate.wait()
            try:
                if (error := self.fail.get(name)) is not None:
                    raise error
                return answer(arg)
            finally:
                self.finished.append(name)

        # The SDK decodes the argument by its annotation; only the records are read as types.
        fake.__annotations__ = {"arg": RECORDERS.get(name, dict), "return": Any}
        return activity.defn(name=name)(fake)
