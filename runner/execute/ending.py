"""How a run ends: the outcome, the error, and the final line.

Every run ends here, by `end` (the run decided) or `stop` (the apply stopped around it); work
that follows a finished run hooks in at these two functions: a decided run whose `after:` may
follow concludes and cleans up first (cleanup.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.errors import TasksError
from runner.execute import cleanup, record
from runner.execute.results import Outcome
from runner.execute.state import Step
from runner.plan import ActionKind

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def end(run: TaskRun, outcome: Outcome, now: float, *, error: str = "", note: str = "") -> None:
    """The run's own verdict, with its final line."""
    if outcome is Outcome.OK and run.action.kind is ActionKind.NOOP:
        outcome = Outcome.UNCHANGED  # only waited: nothing was changed
    _close(run, outcome, error)
    text = outcome.value + (f": {error}" if error else "") + (f" ({note})" if note else "")
    record.event(run, text, final=True)


def stop(run: TaskRun, outcome: Outcome, why: str) -> None:
    """The apply stopped (interrupted, or contact lost) before the run ended; no line."""
    if run.done:
        return
    if run.state.step.concluded:
        cleanup.stopped(run)  # its outcome stands
        return
    if run.state.step in (Step.CREATE_ASKED, Step.ADOPT):
        # Whether the task exists is not known: that is the outcome, not only its text.
        outcome, why = Outcome.UNKNOWN, "create outcome unknown; a re-run adopts it"
    _close(run, outcome, why)


def fail(run: TaskRun, error: BaseException | None, now: float) -> None:
    """End on an error no step expects."""
    text = error.message if isinstance(error, TasksError) else f"{type(error).__name__}: {error}"
    end(run, Outcome.FAILED, now, error=text)


def reason(error: BaseException) -> str:
    """An error as a progress line shows it."""
    return error.message if isinstance(error, TasksError) else str(error)


def _close(run: TaskRun, outcome: Outcome, error: str) -> None:
    run.go(cleanup.concluded(run, outcome))
    record.closed(run, outcome, error)
