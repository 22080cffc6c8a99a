"""When a task's agent is ready for input, or finished: the rules both `send` and `apply` follow.

Coder's own CLI waits until a task is `active` and its state is `idle`, `complete` or `failed`,
and treats a task that stays active with no state for 30 s as idle. Agents also report `idle` for
a moment between steps, so an idle report only counts once it has held for a grace period. The
tracker below is pure: callers feed it observations with their timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from runner import defaults
from runner.coder.models import Task

NO_STATE_IDLE_AFTER_SECONDS = defaults.NO_STATE_IDLE_AFTER_SECONDS

FINISHED_STATES = ("complete", "failed")


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
