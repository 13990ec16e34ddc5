"""Recorded histories replay on today's OrderWorkflow: a non-deterministic change fails here."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.harness.keys import payload_converter
from workflows.mail import MailWorkflow
from workflows.order import OrderWorkflow
from workflows.refund import RefundWorkflow
from workflows.returns import ReturnWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow

HISTORIES = {
    path.stem: path.read_text() for path in (Path(__file__).parent / "histories").glob("*.json")
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays_on_current_code(name: str) -> None:
    history = WorkflowHistory.from_json(f"order-{name}", HISTORIES[name])

    # The histories before encryption are plaintext: the codec passes them through.
    prefixes = {
        "refund_": RefundWorkflow,
        "return_": ReturnWorkflow,
        "webhook_": WebhookDeliveryWorkflow,
        "mail_": MailWorkflow,
    }
    workflow = next((w for p, w in prefixes.items() if name.startswith(p)), OrderWorkflow)
    replayer = Replayer(workflows=[workflow], data_converter=payload_converter())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None


def test_every_scenario_is_recorded_for_every_version() -> None:
    scenarios = {"completed", "declined", "backordered_then_cancelled"}
    versions = {name.rpartition("-")[2] for name in HISTORIES}
    support = {f"changed_on_hold-{v}" for v in versions if int(v[1:]) >= 4}  # since holds exist
    money = (
        {  # since store credit, invoices and refunds exist
            f"{s}-{v}"
            for s in ("paid_with_credit", "refund_original_payment", "refund_store_credit")
            for v in versions | {"v5"}
            if int(v[1:]) >= 5
        }
        | {f"refund_declined-{v}" for v in versions if int(v[1:]) >= 5}
    )
    returns = {  # since returns exist
        f"{s}-{v}"
        for s in (
            "return_received",
            "return_declined",
            "return_cancelled",
            "return_expired",
            "return_advance",
            "advance_exchange",
        )
        for v in versions
        if int(v[1:]) >= 6
    }
    integration = {  # since the shipping SLA, webhooks and e-mails exist
        f"{s}-{v}"
        for s in ("late", "webhook_delivered", "mail_sent")
        for v in versions
        if int(v[1:]) >= 7
    }
    handed_on = {  # since the relay tries first and hands on what failed
        f"{s}-{v}"
        for s in ("webhook_handed_on", "mail_handed_on")
        for v in versions
        if int(v[1:]) >= 8
    }
    expected = {f"{s}-{v}" for s in scenarios for v in versions} | support | money | returns
    assert expected | integration | handed_on == set(HISTORIES)
    assert {"v1", "v2", "v4", "v5", "v6", "v7", "v8"} <= versions
