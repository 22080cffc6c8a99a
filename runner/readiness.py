"""When a task's agent is ready for input, or finished: the rules every wait follows.

One module for every wait, imperative (`send`, `status --watch`, `pause`, `resume`) and batch
(`apply`): the pure rules and tracker below, and the blocking polls the imperative commands use.

Coder's own CLI waits until a task is `active` and its state is `idle`, `complete` or `failed`,
and treats a task that stays active with no state for 30 s as idle. Agents also report `idle` for
a moment between steps, so an idle report only counts once it has held for a grace period. The
tracker below is pure: callers feed it observations with their timestamps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from runner import defaults
from runner.coder.models import Task
from runner.errors import TasksError

if TYPE_CHECKING:
    from runner.coder.client import CoderClient

NO_STATE_IDLE_AFTER_SECONDS = defaults.NO_STATE_IDLE_AFTER_SECONDS

FINISHED_STATES = ("complete", "failed")
#: Workspace statuses of a build that ended without starting the task: waiting cannot help.
BUILD_FAILED = ("failed", "canceled")
#: Coder's CLI tolerates `error` this long while a task starts: it shows up in healthy startups.
ERROR_GRACE_SECONDS = 300.0


class Readiness(Enum):
    """What an observation of a task means for someone waiting on it."""

    NOT_READY = "not_ready"  # starting, working, or idle too briefly
    IDLE = "idle"  # idle (or silent) long enough: ready for the next input
    COMPLETE = "complete"  # the agent reported it finished
    FAILED = "failed"  # the agent reported failure
    PAUSED = "paused"  # stopped; resume it (where the server allows) before sending
    BROKEN = "broken"  # status error or unknown: the task needs a person


def settled_state(task: Task) -> str:
    """The task's state when it is active and not working: idle, complete, failed, or ""."""
    if task.status != "active" or task.current_state is None:
        return ""
    state = task.state
    return state if state in ("idle", *FINISHED_STATES) else ""


@dataclass
class ReadinessTracker:
    """Debounces one task's idle reports across polls.

    `idle_grace` is how long idle must hold (measured between observations) before it counts;
    `no_state_after` is how long an active task may report no state before it counts as idle.
    """

    idle_grace: float = defaults.IDLE_GRACE_SECONDS
    no_state_after: float = NO_STATE_IDLE_AFTER_SECONDS
    _idle_since: float | None = None
    _idle_report: object = None  # the timestamp of the idle report being timed
    _no_state_since: float | None = None

    def observe(self, task: Task, now: float) -> Readiness:
        """Classify `task` as seen at monotonic time `now`."""
        if task.status == "paused":
            self._reset()
            return Readiness.PAUSED
        if task.status in ("error", "unknown"):
            self._reset()
            return Readiness.BROKEN
        if task.status != "active":
            self._reset()
            return Readiness.NOT_READY
        if task.current_state is None:
            self._idle_since = None
            if self._no_state_since is None:
                self._no_state_since = now
            if now - self._no_state_since >= self.no_state_after:
                return Readiness.IDLE
            return Readiness.NOT_READY
        self._no_state_since = None
        state = task.state
        if state == "complete":
            return Readiness.COMPLETE
        if state == "failed":
            return Readiness.FAILED
        if state != "idle":
            self._idle_since = None
            return Readiness.NOT_READY
        # A new idle report (another timestamp) means the agent worked in between: start over.
        report = task.current_state.timestamp
        if self._idle_since is None or report != self._idle_report:
            self._idle_since = now
            self._idle_report = report
        if now - self._idle_since >= self.idle_grace:
            return Readiness.IDLE
        return Readiness.NOT_READY

    def _reset(self) -> None:
        self._idle_since = None
        self._no_state_since = None


def watch_finished(task: Task) -> bool:
    """Whether `status --watch` stops here, by Coder's rule.

    The workspace is stopped, or the agent is healthy (neither starting nor shutting down) and
    has reported a state other than `working`.
    """
    if task.workspace_status == "stopped":
        return True
    if not task.healthy or task.current_state is None:
        return False
    return task.current_state.state != "working"


def build_failed(task: Task) -> bool:
    """Whether the task's workspace build ended without starting it: waiting cannot help."""
    return task.workspace_status in BUILD_FAILED


def reached(task: Task, wait: str, silent_for: float | None, no_state_after: float) -> bool:
    """Whether `task` already is where a batch's `wait` (idle or complete) asks it to be.

    `silent_for` is how long an active task has reported no state (None: unknown). Such an
    agent counts as idle once it has been silent `no_state_after`, as Coder's CLI has it.
    """
    if task.status == "active" and task.current_state is None and silent_for is not None:
        return wait != "complete" and silent_for >= no_state_after
    settled = settled_state(task)
    if wait == "complete":
        return settled == "complete"
    return settled in ("idle", "complete")


def wait_until_active(client: CoderClient, task: Task, interval: float) -> Task:
    """Poll until the task is `active`; `unknown` or `paused` (or a lasting `error`) fail."""
    deadline = time.monotonic() + ERROR_GRACE_SECONDS
    while task.status != "active":
        if task.status == "unknown" or (task.status == "error" and time.monotonic() > deadline):
            raise TasksError(
                f"task entered {task.status} state while waiting for it to become active"
            )
        if task.status == "paused":
            raise TasksError("task was paused while waiting for it to become active")
        time.sleep(interval)
        task = client.get_task(task.id)
    return task


def wait_until_idle(client: CoderClient, task: Task, interval: float) -> Task:
    """Poll until the agent is idle, complete or failed (or silent 30 s), as Coder's send does.

    `error` is tolerated for a grace period (it shows up in healthy startups); `paused`,
    `unknown`, or a task that went back to starting, end the wait with an error.
    """
    tracker = ReadinessTracker(idle_grace=0.0)
    deadline = time.monotonic() + ERROR_GRACE_SECONDS
    while True:
        readiness = tracker.observe(task, time.monotonic())
        if readiness in (Readiness.IDLE, Readiness.COMPLETE, Readiness.FAILED):
            return task
        if readiness is Readiness.PAUSED:
            raise TasksError("task was paused while waiting for it to become idle")
        if task.status == "unknown" or (task.status == "error" and time.monotonic() > deadline):
            raise TasksError(
                f"task entered {task.status} state while waiting for it to become idle"
            )
        if task.status not in ("active", "error"):
            raise TasksError(
                f"task entered unexpected state ({task.status}) while waiting for it to become idle"
            )
        time.sleep(interval)
        task = client.get_task(task.id)


def wait_for_workspace(client: CoderClient, task: Task, wanted: str, interval: float) -> Task:
    """Poll until the task's workspace reaches `wanted` (`running` or `stopped`)."""
    while task.workspace_status != wanted:
        if task.status == "error" or build_failed(task):
            raise TasksError(
                f"workspace build failed (task status {task.status}, "
                f"workspace {task.workspace_status or 'unknown'})"
            )
        time.sleep(interval)
        task = client.get_task(task.id)
    return task
