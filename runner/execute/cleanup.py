"""Clean-up after a run (`after: stop | remove`), once every outcome is final.

An outcome is final only once the reports' details are read and the expectations judged, after
every run ended; so clean-up is the run's last phase, `parallelism` requests at a time. It
follows a task that ended `ok`, `unchanged` or `failed` (the agent's work is over); one that
timed out, was interrupted or is unknown may still be working and is left as it is: the next
apply cleans it up once it finishes. Each clean-up is done in an order a re-run can finish from
any point (the observer tells what is left: runner/observe.py), so a stop between its requests
leaves nothing half done that the next apply cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, as_completed
from functools import partial
from typing import TYPE_CHECKING

from runner.errors import AuthError, TasksError
from runner.execute.results import Event, Outcome, TaskResult
from runner.execute.workers import Workers
from runner.item import Item
from runner.plan import Action

if TYPE_CHECKING:
    from runner.backends import Backend

#: Outcomes after which the agent's work is over, so its task may be stopped or removed.
CLEANED_AFTER = frozenset({Outcome.OK, Outcome.UNCHANGED, Outcome.FAILED})
#: What a clean-up stopped part-way says; the observer finds what is left on the next apply.
UNFINISHED = "clean-up interrupted; the next apply finishes it"

Entry = tuple[Action, TaskResult, "Item | None"]


def clean_up(
    backend: Backend,
    entries: Sequence[Entry],
    parallelism: int,
    emit: Callable[[Event], None],
) -> bool:
    """Do each finished task's `after:`; True when interrupted (Ctrl-C, SIGTERM)."""
    due = [
        (action, result, task)
        for action, result, task in entries
        if action.after and task is not None and result.outcome in CLEANED_AFTER
    ]
    if not due:
        return False
    # Daemon workers: after Ctrl-C a request still on the wire must not keep the command alive.
    pool = Workers(min(max(1, parallelism), len(due)))
    futures: dict[Future[str], tuple[Action, TaskResult]] = {
        pool.submit(partial(backend.clean_up, task, action.after)): (action, result)
        for action, result, task in due
    }
    try:
        for future in as_completed(futures):
            action, result = futures[future]
            _record(action, result, future, emit)
    except KeyboardInterrupt:
        for future, (_, result) in futures.items():
            if not future.done():
                result.clean_up = UNFINISHED
        pool.abandon()
        return True
    except BaseException:
        pool.abandon()
        raise
    pool.close()
    return False


def _record(
    action: Action, result: TaskResult, future: Future[str], emit: Callable[[Event], None]
) -> None:
    """The clean-up's result on the task's record: what was done, or why it failed (the task
    then fails: it is not as the manifest asks, and the next apply tries again)."""
    error = future.exception()
    if error is None:
        done = future.result() or f"nothing to {action.after}"
        result.clean_up = done
        result.done.append(done)
        emit(Event(result, done))
        return
    if isinstance(error, AuthError) or not isinstance(error, TasksError):
        raise error
    result.clean_up = f"{action.after} failed: {error.message}"
    result.outcome = Outcome.FAILED
    result.error = "; ".join(e for e in (result.error, result.clean_up) if e)
    emit(Event(result, result.clean_up, final=True))
