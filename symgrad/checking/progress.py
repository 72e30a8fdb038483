"""A progress bar that appears only when a check takes long enough to wonder about.

Most checks finish in a fraction of a second and print nothing extra; one that is still
running after :data:`DELAY` seconds shows a rich bar on stderr (never on stdout, which
carries the report or JSON), and the bar disappears when the check ends.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from symgrad.i18n import _

DELAY = 1.0  # seconds before a bar appears
REFRESH = 0.1  # seconds between redraws: drawing must not cost more than the work


class Progress:
    """Counts units of work (groups of forwards) and draws a bar once it is worth it.

    Args:
        description: what is being done, shown left of the bar.
        enabled: draw at all; by default only when stderr is a terminal.
        delay: seconds of work before the bar appears.
        console: a rich console to draw on (stderr by default); tests pass their own.
    """

    def __init__(
        self,
        description: str = "checking",
        enabled: bool | None = None,
        delay: float = DELAY,
        console: Any = None,
    ) -> None:
        self.description = description
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.delay = delay
        self.console = console
        self.total = 0
        self.done = 0
        self.shown = False
        self._start = time.monotonic()
        self._drawn = 0.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def expect(self, amount: int) -> None:
        """More work is coming: ``amount`` more units."""
        self.total += amount
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def describe(self, description: str) -> None:
        """What is being done now (the tensor being perturbed)."""
        self.description = description
        if self._bar is not None:
            self._bar.update(self._task, description=description)

    def advance(self, amount: int = 1) -> None:
        """``amount`` units are done; draw (at most every REFRESH seconds) once shown."""
        self.done += amount
        if not self.enabled:
            return
        now = time.monotonic()
        if self._bar is None:
            if now - self._start < self.delay:
                return
            self._show()
        if now - self._drawn >= REFRESH:
            self._bar.update(self._task, completed=self.done, total=max(self.total, self.done))
            self._bar.refresh()
            self._drawn = now

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        console = self.console or Console(stderr=True)
        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(_("groups")),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,  # no drawing thread: redrawn from advance(), throttled
        )
        self._task = self._bar.add_task(self.description, total=max(self.total, self.done))
        self._bar.start()
        self.shown = True
