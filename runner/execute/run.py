"""One task's way through an apply: a small state machine driven by the engine.

The engine calls `next_op` to get the one request this task wants to make now (run on a worker
thread), `finish` with that request's outcome, and `observe` with what each poll's list request
showed. All state changes happen on the engine's thread; worker threads only make requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from runner import defaults, ownership
from runner.coder.errors import is_not_an_ai_template
from runner.coder.models import Task
from runner.errors import (
    AgentBusyError,
    ApiError,
    AuthError,
    ConflictError,
    DeliveryUnverifiedError,
    NotFoundError,
    ServerError,
    TasksError,
    TransportError,
    UncertainOutcomeError,
)
from runner.execute.results import Event, Outcome, TaskResult
from runner.execute.versions import VersionVerdicts
from runner.manifest.model import DesiredTask
from runner.plan import Action, ActionKind, delivered_count
from runner.preflight import ResolvedTask
from runner.readiness import Readiness, ReadinessTracker, build_failed

if TYPE_CHECKING:
    from runner.backends import Backend

#: Polls a known task may be missing from the list before it counts as gone.
MISSING_POLLS = 3
#: Waiting budget for a prune delete (no manifest entry gives it a timeout).
DELETE_TIMEOUT_SECONDS = 600.0

Op = Callable[[], Any]


class Phase(Enum):
    DELETE = "delete"  # delete the existing task (prune, or the old one of a replace)
    CREATE = "create"
    ADOPT = "adopt"  # a create may have happened: find it by listing
    FOLLOW_UPS = "follow_ups"
    WAIT = "wait"
    DONE = "done"


#: Every phase change a run may make; anything else is a bug, caught where it happens.
TRANSITIONS: Mapping[Phase, frozenset[Phase]] = {
    Phase.DELETE: frozenset({Phase.CREATE, Phase.DONE}),
    Phase.CREATE: frozenset({Phase.ADOPT, Phase.FOLLOW_UPS, Phase.WAIT, Phase.DONE}),
    Phase.ADOPT: frozenset({Phase.CREATE, Phase.FOLLOW_UPS, Phase.WAIT, Phase.DONE}),
    Phase.FOLLOW_UPS: frozenset({Phase.WAIT, Phase.DONE}),
    Phase.WAIT: frozenset({Phase.DONE}),
    Phase.DONE: frozenset(),
}


def transition(current: Phase, to: Phase) -> Phase:
    """`to`, when a run in phase `current` may go there; RuntimeError otherwise."""
    if to not in TRANSITIONS[current]:
        raise RuntimeError(f"a task run cannot go from {current.value} to {to.value}")
    return to


class Doubt(Enum):
    """Why a create may or may not have happened, so the listing that follows must decide."""

    LOST = "lost"  # the response was lost, or the server failed part-way
    CONFLICT = "conflict"  # the name is taken: by our own earlier create, or by another


@dataclass(frozen=True)
class Sent:
    """What a send request did: follow-up `count` is now delivered, by it or before it."""

    count: int
    already_delivered: bool  # the logs showed it delivered, so nothing was sent


@dataclass(frozen=True)
class RunSettings:
    """Engine-wide knobs a run needs."""

    idle_grace: float | None = None  # overrides the manifest's idle_grace when set
    poll_interval: float = defaults.POLL_INTERVAL_SECONDS
    no_state_after: float = defaults.NO_STATE_IDLE_AFTER_SECONDS
    broken_after: float = defaults.BROKEN_AFTER_SECONDS
    dashboard_url: str = ""


class TaskRun:
    """Drives one plan action to an outcome."""

    def __init__(
        self,
        action: Action,
        existing: Task | None,
        resolved: ResolvedTask | None,
        settings: RunSettings,
        emit: Callable[[Event], None],
        backend: Backend,
        versions: VersionVerdicts | None = None,
    ) -> None:
        self.action = action
        self.backend = backend
        self.versions = versions or VersionVerdicts()  # shared by the runs of one apply
        self._claimed_version = False  # this run's create is the one trying its version
        self.desired: DesiredTask | None = action.desired
        self.resolved = resolved
        self.settings = settings
        self._emit = emit
        self.task = existing
        self.result = TaskResult(
            name=action.name,
            owner=action.owner,
            coder_name=action.coder_name,
            action=action.kind.value,
            task_id=existing.id if existing else None,
        )
        if existing is not None:
            self._record_task(existing)
        grace = settings.idle_grace
        if grace is None:
            grace = self.desired.idle_grace_seconds if self.desired else defaults.IDLE_GRACE_SECONDS
        self.tracker = ReadinessTracker(idle_grace=grace, no_state_after=settings.no_state_after)
        self.delivered = action.delivered if action.logs_verified else 0
        self.deadline: float | None = None
        self.not_before = 0.0
        self.in_flight = False
        self.ready_to_send = False
        self.resuming = False
        self._doubt: Doubt | None = None  # why the last create may or may not have happened
        self._sent_marker: tuple[str, object] | None = None  # state seen when we last sent
        self._sent_at = 0.0
        self._broken_since: float | None = None
        self._missing = 0
        self._replaced_id = existing.id if action.kind is ActionKind.REPLACE and existing else ""
        kind = action.kind
        if kind in (ActionKind.DELETE, ActionKind.REPLACE):
            self.phase = Phase.DELETE
        elif kind is ActionKind.CREATE:
            self.phase = Phase.CREATE
        else:
            self.phase = Phase.FOLLOW_UPS

    # -- engine interface -----------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    @property
    def needs_observation(self) -> bool:
        """True when the next step depends on what the list shows."""
        return not self.in_flight and self.phase in (Phase.ADOPT, Phase.FOLLOW_UPS, Phase.WAIT)

    def start(self, now: float) -> None:
        """Called once when the engine takes the run up."""
        self.result.started_at = time.time()
        if self.phase is Phase.DELETE and self.task is None:
            self._end(Outcome.FAILED, now, error="the task to delete was not observed")
            return
        if self.phase is Phase.FOLLOW_UPS:
            self._begin_wait(now)
            if self.action.kind is ActionKind.NOOP:
                self._event(f"nothing to change; waiting until the agent is {self._wait_mode()}")
            if not self._follow_ups_left():
                self._after_follow_ups(now)

    def next_op(self, now: float) -> Op | None:
        """The request this task wants to make now, or None."""
        if self.in_flight or self.done or now < self.not_before:
            return None
        backend = self.backend
        if self.phase is Phase.DELETE and self.task is not None:
            task = self.task
            return lambda: backend.delete(task)
        if self.phase is Phase.CREATE:
            return self._create_op(backend, now)
        if self.resuming and self.task is not None:
            task = self.task
            return lambda: backend.resume(task)
        if self.phase is Phase.FOLLOW_UPS and self.ready_to_send and self.task is not None:
            return self._send_op(backend, self.task)
        return None

    def finish(self, outcome: Any, error: BaseException | None, now: float) -> None:
        """Take the outcome of the request `next_op` gave."""
        self.in_flight = False
        if isinstance(error, AuthError):
            raise error
        if self.resuming:
            self._finish_resume(error, now)
        elif self.phase is Phase.DELETE:
            self._finish_delete(error, now)
        elif self.phase is Phase.CREATE:
            self._finish_create(outcome, error, now)
        elif self.phase is Phase.FOLLOW_UPS:
            self._finish_send(outcome, error, now)

    def observe(self, listed: dict[str, Task], by_name: dict[str, Task], now: float) -> None:
        """Take one poll's view: tasks by id and by lower-cased `owner/name`."""
        if self.phase is Phase.ADOPT:
            self._adopt(by_name.get(f"{self.action.owner}/{self.action.coder_name}".lower()), now)
            return
        task = listed.get(self.result.task_id or "")
        if task is None:
            self._missing += 1
            if self._missing >= MISSING_POLLS:
                self._end(Outcome.FAILED, now, error="the task disappeared from the deployment")
            return
        self._missing = 0
        self.task = task
        self._record_task(task)
        readiness = self._readiness(task, now)
        if readiness is None:
            return
        if self.phase is Phase.FOLLOW_UPS:
            self._observe_for_send(readiness, task, now)
        elif self.phase is Phase.WAIT:
            self._observe_for_wait(readiness, task, now)

    def check_deadline(self, now: float) -> None:
        """End the run with a timeout once its wait has run past the task's timeout."""
        if self.done or self.in_flight or self.deadline is None or now < self.deadline:
            return
        what = {
            Phase.DELETE: "the delete was still refused",
            Phase.CREATE: f"the name {self.action.coder_name!r} was still taken (by a workspace "
            "being deleted, or one that is not a task of this batch)",
            Phase.ADOPT: "the create could not be confirmed",
            Phase.FOLLOW_UPS: f"{self._follow_ups_left()} follow-up(s) not yet delivered",
            Phase.WAIT: f"the agent was not {self._wait_mode()}",
        }[self.phase]
        if self._broken_since is not None and self.phase in (Phase.FOLLOW_UPS, Phase.WAIT):
            what += f" (task status {self.result.status})"
        self._end(Outcome.TIMEOUT, now, error=f"timed out: {what}")

    def interrupt(self) -> None:
        self._stop(Outcome.INTERRUPTED, "")

    def lose_contact(self, why: str) -> None:
        """End a run the deployment could no longer be asked about."""
        self._stop(Outcome.UNKNOWN, why)

    def _stop(self, outcome: Outcome, why: str) -> None:
        if self.done:
            return
        if (self.phase is Phase.CREATE and self.in_flight) or self.phase is Phase.ADOPT:
            why = "create outcome unknown; a re-run adopts it"
        self._go(Phase.DONE)
        self.result.outcome = outcome
        self.result.error = why
        self.result.finished_at = time.time()

    # -- delete ---------------------------------------------------------------------------

    def _finish_delete(self, error: BaseException | None, now: float) -> None:
        if error is None or isinstance(error, NotFoundError):
            what = "deleted" if error is None else "already gone"
            if self.action.kind is ActionKind.REPLACE:
                self._note(what)
                self._go(Phase.CREATE)
                self.task = None
                self.result.task_id = None
                return
            # The final event says it; a separate note would print the same line twice.
            self.result.done.append(what)
            # What was observed before the delete no longer holds: the task is gone.
            self.result.status = self.result.state = self.result.message = ""
            self._end(Outcome.DELETED, now, note="" if error is None else what)
            return
        if isinstance(error, (ConflictError, ServerError, TransportError)):
            # A build is still running (e.g. right after create): try again shortly.
            self._begin_wait(now)
            self.not_before = now + self.settings.poll_interval
            self._event(f"delete not accepted yet ({_reason(error)}); retrying")
            return
        self._fail(error, now)

    # -- create ---------------------------------------------------------------------------

    def _create_op(self, backend: Backend, now: float) -> Op | None:
        desired = self.desired
        resolved = self.resolved
        assert desired is not None and resolved is not None
        version_id = resolved.version_id
        refused = self.versions.refusal(version_id)
        if refused is not None:
            self._end(Outcome.FAILED, now, error=refused)  # known bad: no create is sent
            return None
        # Preflight judged the active version of a template; a pinned one only a create can.
        pinned = desired.template_version is not None
        if not self.versions.claim(version_id, judged_before=not pinned):
            return None  # another task's create is trying this version; wait for its verdict
        self._claimed_version = pinned
        return lambda: backend.create(desired, resolved)

    def _finish_create(self, outcome: Any, error: BaseException | None, now: float) -> None:
        self._settle_version(outcome, error)
        if error is None and isinstance(outcome, Task):
            self._took(outcome, "created", now)
            return
        if isinstance(error, (UncertainOutcomeError, ServerError)):
            self._doubt = Doubt.LOST
            self._event(f"create outcome unknown ({_reason(error)}); checking the deployment")
        elif isinstance(error, ConflictError):
            self._doubt = Doubt.CONFLICT
            self._event(f"name {self.action.coder_name!r} is taken; checking whose it is")
        else:
            self._fail(error, now)
            return
        self._begin_wait(now)
        self._go(Phase.ADOPT)

    def _settle_version(self, outcome: Any, error: BaseException | None) -> None:
        assert self.resolved is not None
        claimed, self._claimed_version = self._claimed_version, False
        refused = is_not_an_ai_template(error)
        self.versions.settle(
            self.resolved.version_id,
            claimed=claimed,
            accepted=error is None and isinstance(outcome, Task),
            refused=_reason(error) if refused and error is not None else "",
        )

    def _adopt(self, found: Task | None, now: float) -> None:
        desired = self.desired
        assert desired is not None
        if found is not None and found.id == self._replaced_id:
            found = None  # the task being replaced, listed once more before it went
        if found is None:
            if self._doubt is Doubt.CONFLICT:
                # Held by a workspace still being deleted (or one that is not a task): wait.
                self.not_before = now + self.settings.poll_interval
                self._event("name still reserved (a workspace is being deleted?); waiting")
            self._go(Phase.CREATE)
            return
        ours = ownership.owns(desired.batch, found.name, self.backend.ownership_mark(found))
        if ours and found.initial_prompt.strip() == desired.prompt.strip():
            how = (
                "adopted (created, response lost)"
                if self._doubt is Doubt.LOST
                else ("adopted (created concurrently)")
            )
            self._took(found, how, now)
            return
        why = (
            "it belongs to another batch or was made by hand"
            if not ours
            else ("its prompt differs")
        )
        self._end(
            Outcome.FAILED,
            now,
            error=f"a task named {found.name!r} already exists and {why}; not adopted",
        )

    def _took(self, task: Task, how: str, now: float) -> None:
        self.task = task
        self.result.task_id = task.id
        self._record_task(task)
        self._note(how)
        self._begin_wait(now)
        self._reset_tracker()
        if self._follow_ups_left():
            self._go(Phase.FOLLOW_UPS)
        else:
            self._after_follow_ups(now)

    # -- follow-ups -----------------------------------------------------------------------

    def _send_op(self, backend: Backend, task: Task) -> Op:
        desired = self.desired
        assert desired is not None
        already = self.delivered

        def send() -> Sent:
            # The logs decide, right before each send: a follow-up that an earlier (lost)
            # send or a concurrent apply delivered is never sent again.
            inputs = backend.delivered_inputs(task)
            present = delivered_count(inputs, desired.prompt, desired.follow_ups)
            if present > already:
                return Sent(present, already_delivered=True)
            backend.send(task, desired.follow_ups[already])
            return Sent(already + 1, already_delivered=False)

        return send

    def _finish_send(self, outcome: Any, error: BaseException | None, now: float) -> None:
        if error is None and isinstance(outcome, Sent):
            count = outcome.count
            if outcome.already_delivered:
                self._note(f"the logs show {count} follow-up(s) delivered; not sent again")
                self.delivered = max(self.delivered, count)
                self._settle_again()
            else:
                self.delivered = count
                self.result.follow_ups_sent += 1
                self._note(f"sent follow-up {count}/{len(self._follow_ups())}")
                self._settle_again(after_send=now)
            if not self._follow_ups_left():
                self._after_follow_ups(now)
            return
        if isinstance(error, AgentBusyError):
            self._event("agent busy; waiting for it to be idle")
            self._settle_again()
        elif isinstance(error, (UncertainOutcomeError, ServerError)):
            # The next attempt reads the logs first, so a send that landed is not repeated.
            self._event(f"send outcome unknown ({_reason(error)}); checking the logs")
            self.not_before = now + self.settings.poll_interval
        elif isinstance(error, (ApiError, TransportError, DeliveryUnverifiedError)):
            self._event(f"cannot send yet ({_reason(error)}); waiting")
            self._settle_again()
        else:
            self._fail(error, now)

    def _observe_for_send(self, readiness: Readiness, task: Task, now: float) -> None:
        if readiness in (Readiness.IDLE, Readiness.COMPLETE):
            if not self.ready_to_send:
                self.ready_to_send = True
        elif readiness is Readiness.FAILED:
            self._end(
                Outcome.FAILED,
                now,
                error=f"the agent reported failure before all follow-ups: {task.message}".strip(),
            )
        else:
            self.ready_to_send = False

    def _settle_again(self, after_send: float | None = None) -> None:
        self.ready_to_send = False
        self._reset_tracker()
        if after_send is not None and self.task is not None:
            self._sent_marker = _state_marker(self.task)
            self._sent_at = after_send

    def _after_follow_ups(self, now: float) -> None:
        if self._wait_mode() == "none":
            self._end(Outcome.OK, now)
        else:
            self._go(Phase.WAIT)

    # -- waiting --------------------------------------------------------------------------

    def _readiness(self, task: Task, now: float) -> Readiness | None:
        """Readiness after the checks every waiting phase shares; None when handled here."""
        if self._sent_marker is not None:
            # Until the agent reports anything new, the state we saw when sending is stale.
            stale = _state_marker(task) == self._sent_marker
            if stale and now - self._sent_at < self.settings.no_state_after:
                return Readiness.NOT_READY
            self._sent_marker = None
        readiness = self.tracker.observe(task, now)
        if readiness is Readiness.PAUSED:
            if self.backend.can_resume:
                if not self.resuming:
                    self.resuming = True
                    self._event("task is paused; resuming it")
                return None
            self._end(Outcome.FAILED, now, error="the task is paused and this server cannot resume")
            return None
        if readiness is Readiness.BROKEN:
            if task.status == "error" and build_failed(task):
                # A failed build stays failed; only a new build (by a person) could change it.
                self._end(
                    Outcome.FAILED,
                    now,
                    error=f"the workspace build {task.workspace_status}; the task cannot run",
                )
                return None
            if self._broken_since is None:
                self._broken_since = now
            if now - self._broken_since >= self.settings.broken_after:
                self._end(Outcome.FAILED, now, error=f"task status is {task.status}")
            return None
        self._broken_since = None
        return readiness

    def _observe_for_wait(self, readiness: Readiness, task: Task, now: float) -> None:
        mode = self._wait_mode()
        if readiness is Readiness.FAILED:
            self._end(Outcome.FAILED, now, error=f"the agent reported failure: {task.message}")
        elif readiness is Readiness.COMPLETE or (readiness is Readiness.IDLE and mode == "idle"):
            self._end(Outcome.OK, now)

    def _finish_resume(self, error: BaseException | None, now: float) -> None:
        self.resuming = False
        if error is None:
            self._note("resumed")
        elif isinstance(error, ConflictError):
            pass  # already running again
        else:
            self._event(f"resume failed ({_reason(error)}); will retry")
            self.not_before = now + self.settings.poll_interval
        self._reset_tracker()

    # -- helpers --------------------------------------------------------------------------

    def _reset_tracker(self) -> None:
        """Forget what idle reports were timed: after a create, a send or a resume."""
        self.tracker = ReadinessTracker(
            idle_grace=self.tracker.idle_grace, no_state_after=self.tracker.no_state_after
        )

    def _go(self, phase: Phase) -> None:
        self.phase = transition(self.phase, phase)

    def _follow_ups(self) -> tuple[str, ...]:
        return self.desired.follow_ups if self.desired else ()

    def _follow_ups_left(self) -> int:
        return max(0, len(self._follow_ups()) - self.delivered)

    def _wait_mode(self) -> str:
        return self.desired.wait if self.desired else "none"

    def _begin_wait(self, now: float) -> None:
        if self.deadline is None:
            timeout = self.desired.timeout_seconds if self.desired else DELETE_TIMEOUT_SECONDS
            self.deadline = now + timeout
            self.result.wait_started_at = time.time()

    def _record_task(self, task: Task) -> None:
        changed = (self.result.status, self.result.state) != (task.status, task.state)
        self.result.task_id = task.id
        self.result.status = task.status
        self.result.state = task.state
        self.result.message = task.message
        if changed and self.result.started_at is not None:
            self._emit(Event(self.result, task.message, status_only=True))
        if self.settings.dashboard_url and task.id:
            if not task.owner_name:
                task = replace(task, owner_name=self.action.owner)
            path = self.backend.dashboard_path(task)
            self.result.link = f"{self.settings.dashboard_url.rstrip('/')}{path}"

    def _note(self, what: str) -> None:
        self.result.done.append(what)
        self._event(what)

    def _event(self, text: str, final: bool = False) -> None:
        self._emit(Event(self.result, text, final))

    def _fail(self, error: BaseException | None, now: float) -> None:
        if isinstance(error, TasksError):
            text = error.message
        else:
            text = f"{type(error).__name__}: {error}"
        self._end(Outcome.FAILED, now, error=text)

    def _end(self, outcome: Outcome, now: float, *, error: str = "", note: str = "") -> None:
        if outcome is Outcome.OK and self.action.kind is ActionKind.NOOP:
            outcome = Outcome.UNCHANGED  # only waited: nothing was changed
        self._go(Phase.DONE)
        self.result.outcome = outcome
        self.result.error = error
        self.result.finished_at = time.time()
        text = outcome.value + (f": {error}" if error else "") + (f" ({note})" if note else "")
        self._event(text, final=True)


def _state_marker(task: Task) -> tuple[str, object]:
    state = task.current_state
    return (state.state if state else "", state.timestamp if state else None)


def _reason(error: BaseException) -> str:
    return error.message if isinstance(error, TasksError) else str(error)
