"""Retries: an attempt that ended as a task's `retry_on` names is tried again, `retries` times.

Every result is judged once its wait ends (details read, expectations checked); a task that may
be retried has its attempt number read back from the deployment, never from local state: the
retry messages delivered to it (each starts `Attempt N of M: `, matched by text like follow-ups)
and, on Tasks, the attempt its display name carries (ownership.display_name). So a re-run after
a kill, or a second apply racing the first, finds the attempt made and never makes it twice.

A retry is a message (Chats, and an idle task whose expectation is unmet), sent like a follow-up
after a fresh read of the inputs, or (Tasks, a failed or timed-out task) a replace that deletes
the task and creates it again, marked with the attempt. Each round of retries runs on the
engine like the first, then is judged the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runner import ownership
from runner.errors import ApiError, AuthError, DeliveryUnverifiedError, TasksError, TransportError
from runner.execute.details import read_details
from runner.execute.expectations import judge, matches_text
from runner.execute.requests import Retry
from runner.execute.results import Event, Outcome, TaskResult
from runner.item import Item, ResolvedTask
from runner.manifest.model import DesiredTask
from runner.plan import Action, ActionKind

if TYPE_CHECKING:
    from runner.backends import Backend
    from runner.execute.run import TaskRun

#: How every retry message starts: the attempt it begins, of how many the task may make.
_HEAD = re.compile(r"Attempt (\d+) of \d+: ")


@dataclass
class Attempted:
    """One plan entry as its latest attempt left it: with `run`, as that run left it."""

    action: Action
    static_result: TaskResult | None  # the entry's result when no run was needed
    static_task: Item | None
    resolved: ResolvedTask | None
    run: TaskRun | None = None
    attempt_known: bool = False  # `result.attempts` was read back from the deployment

    @property
    def result(self) -> TaskResult:
        if self.run is not None:
            return self.run.result
        assert self.static_result is not None
        return self.static_result

    @property
    def task(self) -> Item | None:
        return self.run.task if self.run is not None else self.static_task


#: Runs a round of task runs on the engine: (interrupted, why it stopped, if it did).
RunRound = Callable[[Sequence["TaskRun"]], tuple[bool, TasksError | None]]
#: Makes the run of an action, as the engine does for a plan's.
MakeRun = Callable[[Action, Item | None, ResolvedTask | None], "TaskRun"]


def conclude(
    backend: Backend,
    entries: Sequence[Attempted],
    run_round: RunRound,
    make_run: MakeRun,
    parallelism: int,
    emit: Callable[[Event], None],
) -> tuple[bool, TasksError | None]:
    """Run the entries' runs, judge every entry and retry those that ask for it, round after
    round, until none does.

    Returns whether a round was interrupted and why one stopped (lost contact, a revoked
    token); the results then hold what was known, and nothing more is read or retried.
    """
    interrupted, stopped = run_round([e.run for e in entries if e.run is not None])
    if interrupted or stopped is not None:
        judge([e.action for e in entries], [e.result for e in entries])
        return interrupted, stopped
    pending = list(entries)
    while pending:
        actions, results = [e.action for e in pending], [e.result for e in pending]
        read_details(
            backend,
            [(e.result, e.task) for e in pending],
            parallelism,
            matches_text(actions, results),
        )
        judge(actions, results)
        read_attempts(backend, pending, parallelism)
        retried = [(e, run) for e in pending if (run := _retry_run(backend, e, make_run, emit))]
        if not retried:
            break
        interrupted, stopped = run_round([run for _, run in retried])
        for entry, run in retried:
            entry.run = run  # the entry is as its latest attempt left it (its task, for clean-up)
        pending = [entry for entry, _ in retried]
        if interrupted or stopped is not None:
            judge([e.action for e in pending], [e.result for e in pending])
            return interrupted, stopped
    return False, None


def attempt_of(desired: DesiredTask, inputs: Sequence[str], mark: str | None) -> int:
    """The attempt a task is at: the newest retry message among its `inputs`, or the attempt
    its display name (`mark`) carries, or 1."""
    sent = [int(m.group(1)) for text in inputs if (m := _HEAD.match(text.strip()))]
    return max([ownership.attempt_of(desired.batch, desired.name, mark), *sent])


def retry_message(desired: DesiredTask, attempt: int, why: str) -> str:
    """What a retry sends: its attempt, then `retry_prompt`, or else what went wrong."""
    body = desired.retry_prompt or (
        f"The last attempt did not succeed ({why}). Please try again and finish the task."
    )
    return f"Attempt {attempt} of {desired.retries + 1}: {body}"


def read_attempts(backend: Backend, entries: Sequence[Attempted], parallelism: int) -> None:
    """Each retrying task's attempt, read back from the deployment (one read of its inputs).

    Where the inputs cannot be read the attempt stays unknown and the task is not retried:
    that could make an attempt twice.
    """
    wanted = [e for e in entries if _may_retry(e) and e.task is not None]
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    try:
        for entry, attempt in zip(
            wanted, pool.map(lambda e: _attempt(backend, e), wanted), strict=True
        ):
            entry.attempt_known = attempt is not None
            entry.result.attempts = attempt or entry.result.attempts
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _attempt(backend: Backend, entry: Attempted) -> int | None:
    task, desired = entry.task, entry.action.desired
    assert task is not None and desired is not None
    try:
        inputs = backend.delivered_inputs(task, read=True).inputs  # labels prove no retry message
    except AuthError:
        raise
    except (ApiError, TransportError, DeliveryUnverifiedError):
        return None
    return attempt_of(desired, inputs, task.display_name)


def _may_retry(entry: Attempted) -> bool:
    desired = entry.action.desired
    return (
        desired is not None and desired.retries > 0 and entry.action.kind is not ActionKind.DELETE
    )


def cause_of(result: TaskResult) -> str | None:
    """Which `retry_on` entry an attempt's end is, if any."""
    if result.outcome is Outcome.TIMEOUT:
        return "timeout"
    if result.outcome is Outcome.FAILED:
        return "expect" if result.unmet else "error"
    return None


def _retry_run(
    backend: Backend, entry: Attempted, make_run: MakeRun, emit: Callable[[Event], None]
) -> TaskRun | None:
    """The run of the entry's next attempt, when it may make one."""
    desired, result, task = entry.action.desired, entry.result, entry.task
    cause = cause_of(result)
    if desired is None or task is None or cause not in desired.retry_on or not _may_retry(entry):
        return None
    attempt = result.attempts + 1
    if not entry.attempt_known:
        result.done.append("not retried: its attempt number could not be read")
        return None
    if attempt > desired.retries + 1:
        return None
    recreate = backend.recreates_failed and cause != "expect"
    if recreate and task.display_name is None:
        # No display name (v2.28) to carry the attempt: a re-run could not tell it was made.
        result.done.append("not retried: this server keeps no mark of a task's attempt")
        return None
    why = result.error
    result.attempts = attempt
    result.outcome, result.error, result.expectations = None, "", []
    result.details_read = False
    result.done.append(f"retry {attempt - 1} of {desired.retries}")
    emit(Event(result, f"retrying (attempt {attempt} of {desired.retries + 1}): {why}"))
    if recreate:
        again = replace(desired, attempt=attempt)
        action = replace(entry.action, kind=ActionKind.REPLACE, desired=again, task_id=task.id)
        run = make_run(action, task, entry.resolved)
        run.next_attempt(result)
        return run
    text = retry_message(desired, attempt, why)
    follow_ups = (*desired.follow_ups, text)
    action = replace(
        entry.action,
        kind=ActionKind.SEND,
        desired=replace(desired, follow_ups=follow_ups),
        task_id=task.id,
        follow_ups=(text,),
        delivered=len(desired.follow_ups),
        logs_verified=True,
    )
    run = make_run(action, task, entry.resolved)
    run.next_attempt(result, Retry(attempt, interrupt=cause == "timeout"))
    return run
