"""Progress bars and messages on the terminal (tqdm, kept behind a small typed face)."""

from types import TracebackType
from typing import Self

from tqdm import tqdm


def say(text: str) -> None:
    """Print a line without breaking the progress bars."""
    tqdm.write(text)


class Bar:
    """One progress bar; a context manager that closes it."""

    def __init__(self, desc: str, total: int, unit: str, position: int = 0) -> None:
        self._bar = tqdm(
            total=total, desc=desc, unit=unit, position=position, dynamic_ncols=True, leave=True
        )

    def advance(self, steps: int = 1) -> None:
        self._bar.update(steps)

    def show(self, done: int, of: int | None = None) -> None:
        """Set the bar to `done` (for counts read from elsewhere, which may jump), and its total
        to `of` when that grows too."""
        if of is not None and of != self._bar.total:
            self._bar.total = of
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
