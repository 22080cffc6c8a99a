"""Watching a task through the polls: what each poll's listing of it means for the run, a
paused or broken task, resuming it, and the decision that ends a wait (`decide_wait`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ConflictError
from runner.execute import ending, record, send, timeout
from runner.execute.results import Outcome
from runner.execute.state import FollowingUp, State, Step, Waiting, Watch, Watched, rewatched
from runner.item import Item
from runner.readiness import Readiness, build_failed

if TYPE_CHECKING:
    from runner.execute.run import TaskRun

#: Polls a known task may be missing from the list before it counts as gone.
MISSING_POLLS = 3


def observe_watched(run: TaskRun, state: Watched, task: Item | None, now: float) -> None:
    """One poll's listing of the run's task (None: not listed)."""
    if task is None:
        missing = state.watch.missing + 1
        if missing >= MISSING_POLLS:
            ending.end(run, Outcome.FAILED, now, error="the task disappeared from the deployment")
        else:
            run.go(rewatched(state, replace(state.watch, missing=missing)))
        return
    run.update(replace(run.progress, task=task))
    record.task_seen(run, task)
    timeout.capacity_seen(run, task, now)
    watch, readiness = _readiness(run, state.watch, task, now)
    if readiness is Readiness.PAUSED:
        _paused(run, state, watch, now)
    elif readiness is Readiness.BROKEN:
        _broken(run, state, watch, task, now)
    elif isinstance(state, FollowingUp):
        send.observe_for_send(run, state, watch, readiness, task, now)
    else:
        decide_wait(run, state, watch, readiness, task, now)


def decide_wait(
    run: TaskRun, state: Waiting, watch: Watch, readiness: Readiness, task: Item, now: float
) -> None:
    """Where a wait ends: the agent's report, read against the manifest's `wait`, gives the
    outcome; anything else waits on."""
    mode = run.wait_mode()
    if readiness is Readiness.FAILED:
        ending.end(run, Outcome.FAILED, now, error=f"the agent reported failure: {task.message}")
    elif readiness is Readiness.COMPLETE or (readiness is Readiness.IDLE and mode == "idle"):
        ending.end(run, Outcome.OK, now)
    else:
        run.go(replace(state, watch=watch))


def _readiness(run: TaskRun, watch: Watch, task: Item, now: float) -> tuple[Watch, Readiness]:
    """What `task` means for the run, and the watch updated by seeing it."""
    watch = replace(watch, missing=0)
    if watch.sent is not None:
        # Until the agent reports anything new, the state we saw when sending is stale.
        if watch.sent.matches(task) and now - watch.sent.at < run.settings.no_state_after:
            return watch, Readiness.NOT_READY
        watch = replace(watch, sent=None)
    readiness = run.tracker.observe(task, now)
    if readiness not in (Readiness.PAUSED, Readiness.BROKEN):
        watch = replace(watch, broken_since=None)
    return watch, readiness


def _paused(run: TaskRun, state: Watched, watch: Watch, now: float) -> None:
    if not run.backend.can_resume:
        ending.end(
            run, Outcome.FAILED, now, error="the task is paused and this server cannot resume"
        )
        return
    to: State
    if isinstance(state, FollowingUp):
        to = FollowingUp(Step.RESUME_TO_SEND, watch)
    else:
        to = Waiting(Step.RESUME_TO_WAIT, watch)
    if to.step is not state.step:
        record.event(run, "task is paused; resuming it")
    run.go(to)


def _broken(run: TaskRun, state: Watched, watch: Watch, task: Item, now: float) -> None:
    if task.status == "error" and build_failed(task):
        # A failed build stays failed; only a new build (by a person) could change it.
        ending.end(
            run,
            Outcome.FAILED,
            now,
            error=f"the workspace build {task.workspace_status}; the task cannot run",
        )
        return
    since = now if watch.broken_since is None else watch.broken_since
    if now - since >= run.settings.broken_after:
        ending.end(run, Outcome.FAILED, now, error=f"task status is {task.status}")
        return
    run.go(rewatched(state, replace(watch, broken_since=since)))


def finish_resume(run: TaskRun, state: Watched, error: BaseException | None, now: float) -> None:
    if error is None:
        record.note(run, "resumed")
    elif isinstance(error, ConflictError):
        pass  # already running again
    else:
        record.event(run, f"resume failed ({ending.reason(error)}); will retry")
        run.retry_later(now)
    run.reset_tracker()
    if isinstance(state, FollowingUp):
        run.go(FollowingUp(Step.SETTLE, state.watch))
    else:
        run.go(Waiting(Step.WAIT, state.watch))
