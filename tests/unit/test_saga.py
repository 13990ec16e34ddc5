"""The saga (workflows/saga.py): undos registered before each step, run newest first."""

import ast
import inspect
from pathlib import Path

from workflows import order
from workflows.contracts import ActivityName
from workflows.saga import Saga
from workflows.steps import UNDO_SUMMARIES

A = ActivityName


class Undos:
    """Runs an undo by recording its name."""

    def __init__(self) -> None:
        self.ran: list[ActivityName] = []

    async def __call__(self, undo: ActivityName) -> None:
        self.ran.append(undo)


async def test_compensation_runs_every_registered_undo_newest_first_once() -> None:
    undos = Undos()
    saga = Saga(undos)
    for undo in (A.RELEASE_STOCK, A.VOID_PAYMENT, A.CANCEL_PICK):
        saga.register(undo)

    await saga.compensate()
    await saga.compensate()

    assert undos.ran == [A.CANCEL_PICK, A.VOID_PAYMENT, A.RELEASE_STOCK]


async def test_a_step_tried_again_is_undone_once() -> None:
    undos = Undos()
    saga = Saga(undos)
    saga.register(A.RELEASE_STOCK)  # a backorder: reserve is tried again
    saga.register(A.RELEASE_STOCK)

    await saga.compensate()

    assert undos.ran == [A.RELEASE_STOCK]


async def test_past_shipping_only_the_payment_is_undone() -> None:
    undos = Undos()
    saga = Saga(undos)
    for undo in (A.RELEASE_STOCK, A.VOID_PAYMENT, A.CANCEL_PICK, A.CANCEL_PACK, A.VOID_SHIPMENT):
        saga.register(undo)

    saga.keep_only(A.VOID_PAYMENT)
    await saga.compensate()

    assert undos.ran == [A.VOID_PAYMENT]


async def test_once_forgotten_nothing_is_undone() -> None:
    undos = Undos()
    saga = Saga(undos)
    saga.register(A.VOID_PAYMENT)

    saga.forget()
    await saga.compensate()

    assert undos.ran == []


def undos_named_in_the_workflow() -> set[ActivityName]:
    """Every `undo=A.X` that workflows/order.py passes to a step, read from its source."""
    source = Path(inspect.getfile(order)).read_text()
    return {
        ActivityName[keyword.value.attr]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "undo" and isinstance(keyword.value, ast.Attribute)
    }


def test_every_undo_the_workflow_registers_reads_as_a_sentence_in_the_ui() -> None:
    named = undos_named_in_the_workflow()

    assert len(named) == 6  # store credit, stock, payment, pick and pack, label
    assert set(UNDO_SUMMARIES) == named
