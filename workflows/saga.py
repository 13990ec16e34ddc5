"""Compensations: the undo activities registered before each step, run in reverse when it stops."""

from collections.abc import Awaitable, Callable

from workflows.contracts import ActivityName

RunUndo = Callable[[ActivityName], Awaitable[None]]


class Saga:
    """A stack of undo activities; `compensate()` runs them newest first, each to completion."""

    def __init__(self, run_undo: RunUndo) -> None:
        self._run_undo = run_undo
        self._undos: list[ActivityName] = []

    def register(self, undo: ActivityName) -> None:
        """Register before the step runs: a step that fails half-way must still be undone.

        An undo registers once, so a step that is tried again (a backorder) is undone once."""
        if undo not in self._undos:
            self._undos.append(undo)

    def keep_only(self, *undos: ActivityName) -> None:
        """Past a point of no return, only these undos still apply (after shipping: the money)."""
        self._undos = [undo for undo in self._undos if undo in undos]

    def forget(self) -> None:
        """Past the last point of no return nothing can be undone any more."""
        self._undos.clear()

    async def compensate(self) -> None:
        """Run every undo, newest first. Undo activities retry until they succeed."""
        while self._undos:
            await self._run_undo(self._undos.pop())
