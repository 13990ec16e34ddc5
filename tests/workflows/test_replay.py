"""Recorded histories replay on today's OrderWorkflow: a non-deterministic change fails here."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.order import OrderWorkflow

HISTORIES = {
    path.stem: path.read_text() for path in (Path(__file__).parent / "histories").glob("*.json")
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays_on_current_code(name: str) -> None:
    history = WorkflowHistory.from_json(f"order-replay-{name}", HISTORIES[name])

    result = await Replayer(workflows=[OrderWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )

    assert result.replay_failure is None


def test_the_recorded_histories_are_all_there() -> None:
    assert set(HISTORIES) >= {"completed", "declined", "backordered_then_cancelled"}
