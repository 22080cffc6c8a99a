"""Progress text: a live per-task view for a terminal, or one plain line per event.

The view renders text; the command decides where it goes (the library never prints).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

from runner.execute.results import Event, TaskResult
from runner.render.safe_text import safe_line
from runner.report.table import event_line

_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"  # cursor to the start of n lines up, clear to the end


class PlainProgress:
    """One line per event, for logs and CI."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def __call__(self, event: Event) -> None:
        if not event.status_only:
            self._write(event_line(event))

    def close(self) -> None:
        """Nothing to tidy for plain output."""


class LiveProgress:
    """A block of one line per task, redrawn in place (at most every `interval` seconds).

    The block never outgrows the terminal: a cursor cannot move above the top of the screen, so
    a taller block (or a wrapped line) would be printed again below itself on every redraw.
    When tasks outnumber the rows, tasks still running are shown first and the rest counted.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        interval: float = 0.2,
        size: Callable[[], os.terminal_size] = shutil.get_terminal_size,
    ) -> None:
        self._write = write
        self._interval = interval
        self._size = size
        self._rows: dict[int, tuple[TaskResult, str]] = {}
        self._drawn = 0
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        # One row per task, by plan index, showing the latest result it was sent.
        key = event.index
        if event.status_only and key in self._rows:
            # Keep the last thing done; the row shows the new status and state.
            self._rows[key] = (event.result, self._rows[key][1])
        else:
            self._rows[key] = (event.result, event.text)
        now = time.monotonic()
        if event.final or now - self._last >= self._interval:
            self._draw()
            self._last = now

    def close(self) -> None:
        """Draw the final state once more."""
        self._draw()

    def _draw(self) -> None:
        rows = list(self._rows.values())
        if not rows:
            return
        size = self._size()
        columns = max(20, size.columns - 1)  # a full-width line wraps on some terminals
        room = max(2, size.lines - 1)
        hidden: list[tuple[TaskResult, str]] = []
        if len(rows) > room:
            running = [r for r in rows if r[0].outcome is None]
            finished = [r for r in rows if r[0].outcome is not None]
            ordered = running + finished
            rows, hidden = ordered[: room - 1], ordered[room - 1 :]
        width = max(len(safe_line(f"{r.owner}/{r.name}")) for r, _ in rows)
        lines = []
        for result, text in rows:
            # One line per row whatever the server sent: the redraw counts lines to move up.
            label = safe_line(f"{result.owner}/{result.name}").ljust(width)
            status = safe_line("/".join(s for s in (result.status, result.state) if s) or "-")
            lines.append(f"  {label}  {status:<22}  {safe_line(text)}"[:columns])
        if hidden:
            done = sum(1 for r, _ in hidden if r.outcome is not None)
            lines.append(f"  ... and {len(hidden)} more ({done} finished)"[:columns])
        prefix = _UP_AND_CLEAR.format(n=self._drawn) if self._drawn else ""
        self._write(prefix + "\n".join(lines))
        self._drawn = len(lines)
