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
from runner.execute import record
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

#: A plan entry as its run left it: its plan index, action, result and task.
Entry = tuple[int, Action, TaskResult, "Item | None"]


def clean_up(
    backend: Backend,
    entries: Sequence[Entry],
    parallelism: int,
    emit: Callable[[Event], None],
) -> tuple[list[TaskResult], bool]:
    """Do each finished task's `after:`; the entries' results, by plan index, with what it
    did, and True when interrupted (Ctrl-C, SIGTERM)."""
    results = [result for _, _, result, _ in entries]
    due = [
        (index, action, task)
        for index, action, result, task in entries
        if action.after and task is not None and result.outcome in CLEANED_AFTER
    ]
    if not due:
        return results, False
    # Daemon workers: after Ctrl-C a request still on the wire must not keep the command alive.
    pool = Workers(min(max(1, parallelism), len(due)))
    futures: dict[Future[str], tuple[int, Action]] = {
        pool.submit(partial(backend.clean_up, task, action.after)): (index, action)
        for index, action, task in due
    }
    try:
        for future in as_completed(futures):
            index, action = futures[future]
            results[index] = _record(index, action, results[index], future, emit)
    except KeyboardInterrupt:
        for future, (index, _) in futures.items():
            if not future.done():
                results[index] = record.clean_up_left(results[index], UNFINISHED)
        pool.abandon()
        return results, True
    except BaseException:
        pool.abandon()
        raise
    pool.close()
    return results, False


def _record(
    index: int,
    action: Action,
    result: TaskResult,
    future: Future[str],
    emit: Callable[[Event], None],
) -> TaskResult:
    """The clean-up's result on the task's record: what was done, or why it failed (the task
    then fails: it is not as the manifest asks, and the next apply tries again)."""
    error = future.exception()
    if error is None:
        done = future.result() or f"nothing to {action.after}"
        result = record.cleaned(result, done)
        emit(Event(index, result, done))
        return result
    if isinstance(error, AuthError) or not isinstance(error, TasksError):
        raise error
    result = record.cleaned(result, f"{action.after} failed: {error.message}", failed=True)
    emit(Event(index, result, result.clean_up, final=True))
    return result
