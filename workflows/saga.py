"""Compensations registered before each step, run in reverse when an order stops."""

from collections.abc import Awaitable, Callable

from temporalio import workflow

Undo = Callable[[], Awaitable[object]]


class Saga:
    """A stack of undo actions; `compensate()` runs them newest first, each to completion."""

    def __init__(self) -> None:
        self._undos: list[tuple[str, Undo]] = []

    def register(self, name: str, undo: Undo) -> None:
        """Register before the step runs: a step that fails half-way must still be undone.

        A name registers once, so a step that is tried again (a backorder) is undone once."""
        if name not in self.pending:
            self._undos.append((name, undo))

    def forget(self) -> None:
        """Past the point of no return the registered undos no longer apply."""
        self._undos.clear()

    def forget_all_but(self, *names: str) -> None:
        """Keep only the named undos (after shipping, only the payment can still be undone)."""
        self._undos = [(name, undo) for name, undo in self._undos if name in names]

    @property
    def pending(self) -> list[str]:
        return [name for name, _ in self._undos]

    async def compensate(self) -> None:
        """Run every undo, newest first. Undo activities retry until they succeed."""
        while self._undos:
            name, undo = self._undos.pop()
            workflow.logger.info("compensating: %s", name)
            await undo()
