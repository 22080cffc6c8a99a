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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from runner import ownership
from runner.errors import ApiError, AuthError, DeliveryUnverifiedError, TasksError, TransportError
from runner.execute import record
from runner.execute.details import read_details
from runner.execute.expectations import judge, wants_last_words
from runner.execute.requests import Retry
from runner.execute.results import Event, Outcome, TaskResult
from runner.item import Cost, Item, ResolvedTask
from runner.manifest.model import DesiredTask
from runner.plan import Action, ActionKind

if TYPE_CHECKING:
    from runner.backends import Backend
    from runner.execute.run import TaskRun

#: How every retry message starts: the attempt it begins, of how many the task may make.
_HEAD = re.compile(r"Attempt (\d+) of \d+: ")


@dataclass(frozen=True)
class Attempted:
    """One plan entry as its latest attempt left it: its place in the plan, its result so far,
    the task it follows, and the run of that attempt (None when no run was needed)."""

    index: int
    action: Action
    result: TaskResult
    task: Item | None
    resolved: ResolvedTask | None
    run: TaskRun | None = None
    attempt_known: bool = False  # `result.attempts` was read back from the deployment

    def settled(self) -> Attempted:
        """The entry as its run left it (its result, and the task it followed)."""
        if self.run is None:
            return self
        return replace(self, result=self.run.result, task=self.run.task)


@dataclass(frozen=True)
class Round:
    """How a round of runs went: interrupted, or why it stopped (lost contact, a revoked
    token); and the costs read before it began of the items with no run, by plan index."""

    interrupted: bool
    stopped: TasksError | None
    costs: Mapping[int, Cost] = field(default_factory=dict)


#: Runs a round of task runs on the engine (the entries as they stand, and the round's runs).
RunRound = Callable[[Sequence[Attempted], Sequence["TaskRun"]], Round]
#: Makes the run of an action (at its plan index), as the engine does for a plan's.
MakeRun = Callable[[int, Action, Item | None, ResolvedTask | None], "TaskRun"]


def conclude(
    backend: Backend,
    entries: Sequence[Attempted],
    run_round: RunRound,
    make_run: MakeRun,
    parallelism: int,
    emit: Callable[[Event], None],
) -> tuple[list[Attempted], Round]:
    """Run the entries' runs, judge every entry and retry those that ask for it, round after
    round, until none does; return the entries as their last attempts left them.

    A round interrupted or stopped (lost contact, a revoked token) ends it: the results then
    hold what was known, and nothing more is read or retried.
    """
    done = list(entries)  # by plan index: an entry's `index` is its place here
    pending = [e.index for e in done]
    outcome = _run(run_round, done, pending)
    while not outcome.interrupted and outcome.stopped is None:
        done = _judged(backend, done, pending, parallelism)
        retried: list[int] = []
        for index in pending:
            done[index], run = _next_attempt(backend, done[index], make_run, emit)
            if run is not None:
                retried.append(index)
        if not retried:
            return done, outcome
        pending = retried
        outcome = _run(run_round, done, pending)
    judged = judge([done[i].action for i in pending], [done[i].result for i in pending])
    for index, result in zip(pending, judged, strict=True):
        done[index] = replace(done[index], result=result)
    return done, outcome


def _run(run_round: RunRound, entries: list[Attempted], indices: Sequence[int]) -> Round:
    """Run the runs of `indices` as a round; their entries then hold what the runs left."""
    runs = [run for i in indices if (run := entries[i].run) is not None]
    outcome = run_round(entries, runs)
    for index in indices:
        entries[index] = entries[index].settled()
    for index, cost in outcome.costs.items():
        entries[index] = replace(entries[index], result=record.costed(entries[index].result, cost))
    return outcome


def _judged(
    backend: Backend, entries: Sequence[Attempted], pending: Sequence[int], parallelism: int
) -> list[Attempted]:
    """The pending entries with their details read, their expectations judged and, where they
    may be retried, their attempt read back."""
    done = list(entries)
    actions = [done[i].action for i in pending]
    read = read_details(
        backend,
        [(done[i].result, done[i].task) for i in pending],
        parallelism,
        wants_last_words(actions),
    )
    for index, result in zip(pending, judge(actions, read), strict=True):
        done[index] = replace(done[index], result=result)
    return read_attempts(backend, done, pending, parallelism)


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


def read_attempts(
    backend: Backend, entries: Sequence[Attempted], pending: Sequence[int], parallelism: int
) -> list[Attempted]:
    """The entries, each retrying one of `pending` with its attempt read back from the
    deployment (one read of its inputs).

    Where the inputs cannot be read the attempt stays unknown and the task is not retried:
    that could make an attempt twice.
    """
    done = list(entries)
    wanted = [i for i in pending if _may_retry(done[i]) and done[i].task is not None]
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    try:
        read = pool.map(lambda i: _attempt(backend, done[i]), wanted)
        for index, attempt in zip(wanted, read, strict=True):
            entry = done[index]
            attempts = record.attempts_read(entry.result, attempt or entry.result.attempts)
            done[index] = replace(entry, result=attempts, attempt_known=attempt is not None)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return done


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


def _next_attempt(
    backend: Backend, entry: Attempted, make_run: MakeRun, emit: Callable[[Event], None]
) -> tuple[Attempted, TaskRun | None]:
    """The entry with the run of its next attempt, and that run, when it may make one; else
    the entry as it is (its result saying why not, where that is worth saying) and None."""
    desired, result, task = entry.action.desired, entry.result, entry.task
    cause = cause_of(result)
    if desired is None or task is None or cause not in desired.retry_on or not _may_retry(entry):
        return entry, None
    attempt = result.attempts + 1
    if not entry.attempt_known:
        why_not = "not retried: its attempt number could not be read"
        return replace(entry, result=record.noted(result, why_not)), None
    if attempt > desired.retries + 1:
        return entry, None
    recreate = backend.recreates_failed and cause != "expect"
    if recreate and task.display_name is None:
        # No display name (v2.28) to carry the attempt: a re-run could not tell it was made.
        why_not = "not retried: this server keeps no mark of a task's attempt"
        return replace(entry, result=record.noted(result, why_not)), None
    why = result.error
    result = record.retrying(result, attempt, desired.retries)
    text = f"retrying (attempt {attempt} of {desired.retries + 1}): {why}"
    emit(Event(entry.index, result, text))
    if recreate:
        again = replace(desired, attempt=attempt)
        action = replace(entry.action, kind=ActionKind.REPLACE, desired=again, task_id=task.id)
        run = make_run(entry.index, action, task, entry.resolved)
        run.next_attempt(result)
        return replace(entry, result=result, run=run), run
    message = retry_message(desired, attempt, why)
    action = replace(
        entry.action,
        kind=ActionKind.SEND,
        desired=replace(desired, follow_ups=(*desired.follow_ups, message)),
        task_id=task.id,
        follow_ups=(message,),
        delivered=len(desired.follow_ups),
        logs_verified=True,
    )
    run = make_run(entry.index, action, task, entry.resolved)
    run.next_attempt(result, Retry(attempt, interrupt=cause == "timeout"))
    return replace(entry, result=result, run=run), run
