"""When a task's agent is ready for input, or finished: the rules every wait follows.

One module for every wait, imperative (`send`, `status --watch`, `pause`, `resume`) and batch
(`apply`): the pure rules and tracker below, and the blocking polls the imperative commands use.
Every blocking poll and retry runs on `observations` or `retry_refused`, over a `Clock`: the real
one, or in tests a clock that moves only when the test (or a wait) moves it.

Coder's own CLI waits until a task is `active` and its state is `idle`, `complete` or `failed`,
and treats a task that stays active with no state for 30 s as idle. Agents also report `idle` for
a moment between steps, so an idle report only counts once it has held for a grace period. The
tracker below is pure: callers feed it observations with their timestamps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol, TypeVar

from runner import defaults
from runner.coder.errors import is_archive_of_active_chat
from runner.coder.models import Task
from runner.errors import ConflictError, TasksError
from runner.item import Item

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient
    from runner.coder.client import CoderClient

T = TypeVar("T")
#: What the rules read: a Coder task (imperative commands) or a batch's item (apply).
Seen = Task | Item

NO_STATE_IDLE_AFTER_SECONDS = defaults.NO_STATE_IDLE_AFTER_SECONDS

FINISHED_STATES = ("complete", "failed")
#: Workspace statuses of a build that ended without starting the task: waiting cannot help.
BUILD_FAILED = ("failed", "canceled")
#: Coder's CLI tolerates `error` this long while a task starts: it shows up in healthy startups.
ERROR_GRACE_SECONDS = 300.0
#: How long archiving waits out Coder's 409 for a chat still interrupting (ai-sdk PR #177).
ARCHIVE_PATIENCE_SECONDS = 15.0
ARCHIVE_RETRY_SECONDS = 0.25


class Readiness(Enum):
    """What an observation of a task means for someone waiting on it."""

    NOT_READY = "not_ready"  # starting, working, or idle too briefly
    IDLE = "idle"  # idle (or silent) long enough: ready for the next input
    COMPLETE = "complete"  # the agent reported it finished
    FAILED = "failed"  # the agent reported failure
    PAUSED = "paused"  # stopped; resume it (where the server allows) before sending
    BROKEN = "broken"  # status error or unknown: the task needs a person


class Clock(Protocol):
    """Seconds now and a way to let them pass; only differences between readings count."""

    def __call__(self) -> float:
        """Seconds now."""

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""


class _SystemClock:
    """The machine's monotonic clock."""

    def __call__(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = _SystemClock()


def observations(
    first: T, fetch: Callable[[], T], interval: float, clock: Clock = SYSTEM_CLOCK
) -> Iterator[T]:
    """`first`, then `fetch()` every `interval` seconds of `clock`, for as long as the caller
    reads: the one poll loop of every blocking wait."""
    seen = first
    while True:
        yield seen
        clock.sleep(interval)
        seen = fetch()


def retry_refused(
    attempt: Callable[[], T],
    refused: Callable[[Exception], bool],
    *,
    patience: float,
    interval: float,
    between: Callable[[], None] = lambda: None,
    clock: Clock = SYSTEM_CLOCK,
) -> T:
    """`attempt()` until it stops being `refused`, for up to `patience` seconds of `clock`,
    calling `between()` before each new attempt; the last refusal is raised as it is."""
    deadline = clock() + patience
    while True:
        try:
            return attempt()
        except Exception as error:
            if not refused(error) or clock() >= deadline:
                raise
        clock.sleep(interval)
        between()


def settled_state(task: Seen) -> str:
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

    def observe(self, task: Seen, now: float) -> Readiness:
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


def build_failed(task: Seen) -> bool:
    """Whether the task's workspace build ended without starting it: waiting cannot help."""
    return task.workspace_status in BUILD_FAILED


def reached(task: Seen, wait: str, silent_for: float | None, no_state_after: float) -> bool:
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


def wait_until_active(
    client: CoderClient, task: Task, interval: float, clock: Clock = SYSTEM_CLOCK
) -> Task:
    """Poll until the task is `active`; `unknown` or `paused` (or a lasting `error`) fail."""
    deadline = clock() + ERROR_GRACE_SECONDS
    task_id = task.id
    for seen in observations(task, lambda: client.get_task(task_id), interval, clock):
        if seen.status == "active":
            return seen
        if seen.status == "unknown" or (seen.status == "error" and clock() > deadline):
            raise TasksError(
                f"task entered {seen.status} state while waiting for it to become active"
            )
        if seen.status == "paused":
            raise TasksError("task was paused while waiting for it to become active")
    raise AssertionError("unreachable: observations never end")


def wait_until_idle(
    client: CoderClient, task: Task, interval: float, clock: Clock = SYSTEM_CLOCK
) -> Task:
    """Poll until the agent is idle, complete or failed (or silent 30 s), as Coder's send does.

    `error` is tolerated for a grace period (it shows up in healthy startups); `paused`,
    `unknown`, or a task that went back to starting, end the wait with an error.
    """
    tracker = ReadinessTracker(idle_grace=0.0)
    deadline = clock() + ERROR_GRACE_SECONDS
    task_id = task.id
    for seen in observations(task, lambda: client.get_task(task_id), interval, clock):
        readiness = tracker.observe(seen, clock())
        if readiness in (Readiness.IDLE, Readiness.COMPLETE, Readiness.FAILED):
            return seen
        if readiness is Readiness.PAUSED:
            raise TasksError("task was paused while waiting for it to become idle")
        if seen.status == "unknown" or (seen.status == "error" and clock() > deadline):
            raise TasksError(
                f"task entered {seen.status} state while waiting for it to become idle"
            )
        if seen.status not in ("active", "error"):
            raise TasksError(
                f"task entered unexpected state ({seen.status}) while waiting for it to become idle"
            )
    raise AssertionError("unreachable: observations never end")


def wait_for_workspace(
    client: CoderClient, task: Task, wanted: str, interval: float, clock: Clock = SYSTEM_CLOCK
) -> Task:
    """Poll until the task's workspace reaches `wanted` (`running` or `stopped`)."""
    task_id = task.id
    for seen in observations(task, lambda: client.get_task(task_id), interval, clock):
        if seen.workspace_status == wanted:
            return seen
        if seen.status == "error" or build_failed(seen):
            raise TasksError(
                f"workspace build failed (task status {seen.status}, "
                f"workspace {seen.workspace_status or 'unknown'})"
            )
    raise AssertionError("unreachable: observations never end")


def retire_chat(
    chats: ChatsClient,
    chat: Chat,
    *,
    patience: float = ARCHIVE_PATIENCE_SECONDS,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Stop a chat's turn unless Coder archives it as it is, then archive it; the workspace is
    left alone, and an archived chat as it is.

    Coder archives only `waiting` and `error` chats (CHATS-CONTRACT 7.2), so every other status
    (`requires_action` and any it may add) is interrupted first. From v2.35 an interrupted chat
    passes through `interrupting`, and Coder refuses to archive it meanwhile (409); that
    refusal is retried for up to `patience` seconds, interrupting again should the chat have
    started another turn (a queued message) meanwhile.
    """
    if chat.archived:
        return
    chats.stop_turn(chat)
    retry_refused(
        lambda: chats.archive_settled(chat.id),
        lambda error: isinstance(error, ConflictError) and is_archive_of_active_chat(error),
        patience=patience,
        interval=ARCHIVE_RETRY_SECONDS,
        between=lambda: chats.stop_turn(chats.get_chat(chat.id)),
        clock=clock,
    )
