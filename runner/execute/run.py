"""One task's way through an apply: its state (runner/execute/state.py) driven by the engine.

The engine calls `next_op` to get the one request this task wants to make now (run on a worker
thread), `finish` with that request's typed answer (runner/execute/requests.py), and `observe`
with what each poll's list request showed. All state changes happen on the engine's thread;
worker threads only make requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

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
from runner.execute.hold import CapacityHold
from runner.execute.requests import (
    Created,
    NotYet,
    Op,
    Reply,
    Sent,
    create_op,
    delete_op,
    resume_op,
    retire_op,
    send_op,
)
from runner.execute.results import Event, Outcome, TaskResult
from runner.execute.state import (
    Adopting,
    Creating,
    Deleting,
    Done,
    Doubt,
    FollowingUp,
    Phase,
    Retiring,
    SentMark,
    State,
    Step,
    Waiting,
    Watch,
    Watched,
    rewatched,
    transition,
    unasked,
)
from runner.execute.versions import VersionVerdicts
from runner.manifest.model import DesiredTask
from runner.plan import Action, ActionKind
from runner.preflight import ResolvedTask
from runner.readiness import Readiness, ReadinessTracker, build_failed

if TYPE_CHECKING:
    from runner.backends import Backend

#: Polls a known task may be missing from the list before it counts as gone.
MISSING_POLLS = 3
#: Waiting budget for a prune delete (no manifest entry gives it a timeout).
DELETE_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class RunSettings:
    """Engine-wide knobs a run needs."""

    idle_grace: float | None = None  # overrides the manifest's idle_grace when set
    poll_interval: float = defaults.POLL_INTERVAL_SECONDS
    no_state_after: float = defaults.NO_STATE_IDLE_AFTER_SECONDS
    broken_after: float = defaults.BROKEN_AFTER_SECONDS
    dashboard_url: str = ""


def initial_state(kind: ActionKind) -> State:
    """Where a run of a plan action starts."""
    if kind in (ActionKind.DELETE, ActionKind.REPLACE):
        return Deleting()
    if kind is ActionKind.CREATE:
        return Creating()
    return FollowingUp()


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
        self.deadline: float | None = None  # when the wait runs out (set once, when it begins)
        self.hold = CapacityHold()  # time queued for capacity, not counted by the deadline
        self.not_before = 0.0  # no request before this (a retry's pause)
        self._replaced_id = existing.id if action.kind is ActionKind.REPLACE and existing else ""
        # The chat this run created and follows; every poll checks no older one of its item is
        # live (the first may not show one whose create began earlier but ended later).
        self.created_id = ""
        self.confirmed = False  # a poll has shown the chat created alone
        # The run's own create lost a race: it watches the kept chat, the run that made it sends.
        self.observer = False
        self.state: State = initial_state(action.kind)

    # -- engine interface -----------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state.step is Step.DONE

    def start(self, now: float) -> None:
        """Called once when the engine takes the run up."""
        self.result.started_at = time.time()
        state = self.state
        if isinstance(state, Deleting) and self.task is None:
            self._end(Outcome.FAILED, now, error="the task to delete was not observed")
            return
        if isinstance(state, FollowingUp):
            self._begin_wait(now)
            if self.action.kind is ActionKind.NOOP:
                self._event(f"nothing to change; waiting until the agent is {self._wait_mode()}")
            if not self._follow_ups_left():
                self._after_follow_ups(state.watch, now)

    def next_op(self, now: float) -> Op | None:
        """The request this task wants to make now, or None; the state then shows it asked."""
        state = self.state
        if state.step.asked or self.done or now < self.not_before:
            return None
        if isinstance(state, Creating):
            return self._create_op(now)
        task = self.task
        if task is None:
            return None
        if isinstance(state, Deleting):
            self._go(Deleting(Step.DELETE_ASKED))
            return delete_op(self.backend, task)
        if isinstance(state, Retiring):
            self._go(Retiring(state.kept, Step.RETIRE_ASKED))
            return retire_op(self.backend, task)
        if state.step is Step.SEND and self.desired is not None:
            self._go(FollowingUp(Step.SEND_ASKED, state.watch))
            sends = not self.observer
            return send_op(self.backend, task, self.desired, self.delivered, sends=sends)
        if state.step is Step.RESUME_TO_SEND:
            self._go(FollowingUp(Step.RESUME_TO_SEND_ASKED, state.watch))
            return resume_op(self.backend, task)
        if isinstance(state, Waiting) and state.step is Step.RESUME_TO_WAIT:
            self._go(Waiting(Step.RESUME_TO_WAIT_ASKED, state.watch))
            return resume_op(self.backend, task)
        return None

    def finish(self, reply: Reply | None, error: BaseException | None, now: float) -> None:
        """Take the answer to the request `next_op` gave: a reply, or the error it raised."""
        state = self.state
        if isinstance(error, AuthError):
            self._go(unasked(state))  # refused: nothing happened
            raise error
        if isinstance(state, Deleting):
            self._finish_delete(error, now)
        elif isinstance(state, Creating):
            self._finish_create(reply, error, now)
        elif isinstance(state, Retiring):
            self._finish_retire(state, error, now)
        elif isinstance(state, FollowingUp) and state.step is Step.SEND_ASKED:
            self._finish_send(state, reply, error, now)
        elif isinstance(state, (FollowingUp, Waiting)):
            self._finish_resume(state, error, now)

    def observe(self, listed: dict[str, Task], by_name: dict[str, Task], now: float) -> None:
        """Take one poll's view: tasks by id and by lower-cased `owner/name`."""
        state = self.state
        if isinstance(state, Adopting):
            found = by_name.get(f"{self.action.owner}/{self.action.coder_name}".lower())
            self._adopt(state, found, now)
        elif isinstance(state, (FollowingUp, Waiting)):
            if state.step in (Step.SETTLE, Step.WAIT) and self._lost_race(by_name):
                return
            if self._wait_mode() == "none" and isinstance(state, Waiting) and self.confirmed:
                self._end(Outcome.OK, now)  # waited only for the create to be confirmed alone
                return
            self._observe_watched(state, listed.get(self.result.task_id or ""), now)

    def check_deadline(self, now: float) -> None:
        """End the run with a timeout once its wait has run past the task's timeout."""
        state = self.state
        if self.done or state.step.asked or self.deadline is None:
            return
        if now < self.hold.deadline(self.deadline, now):
            return
        what = {
            Phase.DELETE: "the delete was still refused",
            Phase.CREATE: f"the name {self.action.coder_name!r} was still taken (by a workspace "
            "being deleted, or one that is not a task of this batch)",
            Phase.ADOPT: "the create could not be confirmed",
            Phase.RETIRE: "the duplicate created could not be archived",
            Phase.FOLLOW_UPS: f"{self._follow_ups_left()} follow-up(s) not yet delivered",
            Phase.WAIT: f"the agent was not {self._wait_mode()}",
        }[state.step.phase]
        if isinstance(state, (FollowingUp, Waiting)) and state.watch.broken_since is not None:
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
        if self.state.step in (Step.CREATE_ASKED, Step.ADOPT):
            # Whether the task exists is not known: that is the outcome, not only its text.
            outcome, why = Outcome.UNKNOWN, "create outcome unknown; a re-run adopts it"
        self._go(Done(outcome))
        self.result.outcome = outcome
        self.result.error = why
        self.result.finished_at = time.time()

    # -- delete ---------------------------------------------------------------------------

    def _finish_delete(self, error: BaseException | None, now: float) -> None:
        if error is None or isinstance(error, NotFoundError):
            what = "deleted" if error is None else "already gone"
            if self.action.kind is ActionKind.REPLACE:
                self._note(what)
                self._go(Creating())
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
            self._go(Deleting())
            self._event(f"delete not accepted yet ({_reason(error)}); retrying")
            return
        self._fail(error, now)

    # -- create ---------------------------------------------------------------------------

    def _create_op(self, now: float) -> Op | None:
        desired = self.desired
        resolved = self.resolved
        assert desired is not None and resolved is not None
        version_id = resolved.version_id
        refused = self.versions.refusal(version_id)
        if refused is not None:
            self._end(Outcome.FAILED, now, error=refused)  # known bad: no create is sent
            return None
        if not self.versions.claim(version_id, judged_before=not self._pinned()):
            return None  # another task's create is trying this version; wait for its verdict
        self._go(Creating(Step.CREATE_ASKED))
        return create_op(self.backend, desired, resolved)

    def _pinned(self) -> bool:
        """Preflight judged the active version of a template; a pinned one only a create can,
        so each create of a pinned version is the one trying it (see VersionVerdicts)."""
        return self.desired is not None and self.desired.template_version is not None

    def _finish_create(self, reply: Reply | None, error: BaseException | None, now: float) -> None:
        self._settle_version(reply, error)
        if error is None and isinstance(reply, Created):
            if not self.backend.unique_names:
                self.created_id = reply.task.id  # the first poll confirms it alone
            self._took(reply.task, "created", now)
            return
        if isinstance(error, (UncertainOutcomeError, ServerError)):
            doubt = Doubt.LOST
            self._event(f"create outcome unknown ({_reason(error)}); checking the deployment")
        elif isinstance(error, ConflictError):
            doubt = Doubt.CONFLICT
            self._event(f"name {self.action.coder_name!r} is taken; checking whose it is")
        else:
            self._fail(error, now)
            return
        self._begin_wait(now)
        self._go(Adopting(doubt))

    def _settle_version(self, reply: Reply | None, error: BaseException | None) -> None:
        assert self.resolved is not None
        refused = is_not_an_ai_template(error)
        self.versions.settle(
            self.resolved.version_id,
            claimed=self._pinned(),
            accepted=error is None and isinstance(reply, Created),
            refused=_reason(error) if refused and error is not None else "",
        )

    def _adopt(self, state: Adopting, found: Task | None, now: float) -> None:
        desired = self.desired
        assert desired is not None
        if found is not None and found.id == self._replaced_id:
            found = None  # the task being replaced, listed once more before it went
        if found is None:
            if state.doubt is Doubt.CONFLICT:
                # Held by a workspace still being deleted (or one that is not a task): wait.
                self.not_before = now + self.settings.poll_interval
                self._event("name still reserved (a workspace is being deleted?); waiting")
            self._go(Creating())
            return
        ours = ownership.owns(desired.batch, found.name, self.backend.ownership_mark(found))
        if ours and found.initial_prompt.strip() == desired.prompt.strip():
            how = (
                "adopted (created, response lost)"
                if state.doubt is Doubt.LOST
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

    def _lost_race(self, by_name: dict[str, Task]) -> bool:
        """Whether another live chat of the item is kept (oldest by `created_at`, then id; see
        ownership.survivor) over the one this run created, which is then set aside. The first
        poll after the create (its listing began after the create answered) decides before
        anything is sent; no request beyond the poll's list pages."""
        if not self.created_id:
            return False
        kept = by_name.get(f"{self.action.owner}/{self.action.coder_name}".lower())
        if kept is None or kept.id in (self.created_id, self._replaced_id):
            self.confirmed = self.confirmed or kept is not None
            return False
        self._go(Retiring(kept))
        return True

    def _finish_retire(self, state: Retiring, error: BaseException | None, now: float) -> None:
        if error is not None and not isinstance(error, NotFoundError):
            if not isinstance(error, (ApiError, TransportError)):
                self._fail(error, now)
                return
            self._event(f"cannot archive the duplicate yet ({_reason(error)}); retrying")
            self.not_before = now + self.settings.poll_interval
            self._go(Retiring(state.kept))
            return
        created, self.created_id = self.created_id, ""
        self.observer = True
        how = (
            f"created {created} as a concurrent apply did; kept the older {state.kept.id} "
            f"and archived {created}; its follow-ups are sent by the run that created it"
        )
        self._took(state.kept, how, now)

    def _took(self, task: Task, how: str, now: float) -> None:
        self.task = task
        self.result.task_id = task.id
        self._record_task(task)
        self.result.done.append(how)
        self._begin_wait(now)
        self._reset_tracker()
        # The line is shown once the run is past its create: a stop that follows the line
        # (a signal lands between any two statements) then finds the task known, not in doubt.
        ends_here = not self._follow_ups_left() and self._wait_mode() == "none"
        if self._follow_ups_left():
            self._go(FollowingUp())
        elif not ends_here:
            self._after_follow_ups(Watch(), now)
        self._event(how)
        if ends_here:
            self._after_follow_ups(Watch(), now)  # its final line comes after this one

    # -- follow-ups -----------------------------------------------------------------------

    def _finish_send(
        self, state: FollowingUp, reply: Reply | None, error: BaseException | None, now: float
    ) -> None:
        if error is None and isinstance(reply, Sent):
            self._sent(state.watch, reply, now)
            return
        if error is None and isinstance(reply, NotYet):
            self._settle(state.watch)  # the run that made the kept chat sends it
            return
        if isinstance(error, AgentBusyError):
            self._event("agent busy; waiting for it to be idle")
            self._settle(state.watch)
        elif isinstance(error, (UncertainOutcomeError, ServerError)):
            # The next attempt reads the logs first, so a send that landed is not repeated.
            self._event(f"send outcome unknown ({_reason(error)}); checking the logs")
            self.not_before = now + self.settings.poll_interval
            self._go(FollowingUp(Step.SEND, state.watch))
        elif isinstance(error, (ApiError, TransportError, DeliveryUnverifiedError)):
            self._event(f"cannot send yet ({_reason(error)}); waiting")
            self._settle(state.watch)
        else:
            self._fail(error, now)

    def _sent(self, watch: Watch, sent: Sent, now: float) -> None:
        count = sent.count
        if sent.already_delivered:
            self._note(f"the logs show {count} follow-up(s) delivered; not sent again")
            self.delivered = max(self.delivered, count)
        else:
            self.delivered = count
            self.result.follow_ups_sent += 1
            self._note(f"sent follow-up {count}/{len(self._follow_ups())}")
            self.hold.turn(now)
            if self.task is not None:
                watch = replace(watch, sent=SentMark.of(self.task, now))
        if self._follow_ups_left():
            self._settle(watch)
        else:
            self._reset_tracker()
            self._after_follow_ups(watch, now)

    def _settle(self, watch: Watch) -> None:
        """Wait for the agent to be idle (again) before the next send."""
        self._reset_tracker()
        self._go(FollowingUp(Step.SETTLE, watch))

    def _after_follow_ups(self, watch: Watch, now: float) -> None:
        if self._wait_mode() == "none" and (self.confirmed or not self.created_id):
            self._end(Outcome.OK, now)
        else:
            self._go(Waiting(Step.WAIT, watch))

    def _observe_for_send(
        self, state: FollowingUp, watch: Watch, readiness: Readiness, task: Task, now: float
    ) -> None:
        if readiness is Readiness.FAILED:
            self._end(
                Outcome.FAILED,
                now,
                error=f"the agent reported failure before all follow-ups: {task.message}".strip(),
            )
        elif state.step is Step.RESUME_TO_SEND:
            self._go(replace(state, watch=watch))  # the resume goes out first, whatever it shows
        elif readiness in (Readiness.IDLE, Readiness.COMPLETE):
            self._go(FollowingUp(Step.SEND, watch))
        else:
            self._go(FollowingUp(Step.SETTLE, watch))

    # -- waiting --------------------------------------------------------------------------

    def _observe_watched(self, state: Watched, task: Task | None, now: float) -> None:
        if task is None:
            missing = state.watch.missing + 1
            if missing >= MISSING_POLLS:
                self._end(Outcome.FAILED, now, error="the task disappeared from the deployment")
            else:
                self._go(rewatched(state, replace(state.watch, missing=missing)))
            return
        self.task = task
        self._record_task(task)
        if self.hold.see(task.queued_for_capacity, now):
            self._event("queued for capacity: its timeout waits until the agent starts on it")
        watch, readiness = self._readiness(state.watch, task, now)
        if readiness is Readiness.PAUSED:
            self._paused(state, watch, now)
        elif readiness is Readiness.BROKEN:
            self._broken(state, watch, task, now)
        elif isinstance(state, FollowingUp):
            self._observe_for_send(state, watch, readiness, task, now)
        else:
            self._observe_for_wait(state, watch, readiness, task, now)

    def _readiness(self, watch: Watch, task: Task, now: float) -> tuple[Watch, Readiness]:
        """What `task` means for the run, and the watch updated by seeing it."""
        watch = replace(watch, missing=0)
        if watch.sent is not None:
            # Until the agent reports anything new, the state we saw when sending is stale.
            if watch.sent.matches(task) and now - watch.sent.at < self.settings.no_state_after:
                return watch, Readiness.NOT_READY
            watch = replace(watch, sent=None)
        readiness = self.tracker.observe(task, now)
        if readiness not in (Readiness.PAUSED, Readiness.BROKEN):
            watch = replace(watch, broken_since=None)
        return watch, readiness

    def _paused(self, state: Watched, watch: Watch, now: float) -> None:
        if not self.backend.can_resume:
            self._end(Outcome.FAILED, now, error="the task is paused and this server cannot resume")
            return
        to: State
        if isinstance(state, FollowingUp):
            to = FollowingUp(Step.RESUME_TO_SEND, watch)
        else:
            to = Waiting(Step.RESUME_TO_WAIT, watch)
        if to.step is not state.step:
            self._event("task is paused; resuming it")
        self._go(to)

    def _broken(self, state: Watched, watch: Watch, task: Task, now: float) -> None:
        if task.status == "error" and build_failed(task):
            # A failed build stays failed; only a new build (by a person) could change it.
            self._end(
                Outcome.FAILED,
                now,
                error=f"the workspace build {task.workspace_status}; the task cannot run",
            )
            return
        since = now if watch.broken_since is None else watch.broken_since
        if now - since >= self.settings.broken_after:
            self._end(Outcome.FAILED, now, error=f"task status is {task.status}")
            return
        self._go(rewatched(state, replace(watch, broken_since=since)))

    def _observe_for_wait(
        self, state: Waiting, watch: Watch, readiness: Readiness, task: Task, now: float
    ) -> None:
        mode = self._wait_mode()
        if readiness is Readiness.FAILED:
            self._end(Outcome.FAILED, now, error=f"the agent reported failure: {task.message}")
        elif readiness is Readiness.COMPLETE or (readiness is Readiness.IDLE and mode == "idle"):
            self._end(Outcome.OK, now)
        else:
            self._go(replace(state, watch=watch))

    def _finish_resume(self, state: Watched, error: BaseException | None, now: float) -> None:
        if error is None:
            self._note("resumed")
        elif isinstance(error, ConflictError):
            pass  # already running again
        else:
            self._event(f"resume failed ({_reason(error)}); will retry")
            self.not_before = now + self.settings.poll_interval
        self._reset_tracker()
        if isinstance(state, FollowingUp):
            self._go(FollowingUp(Step.SETTLE, state.watch))
        else:
            self._go(Waiting(Step.WAIT, state.watch))

    # -- helpers --------------------------------------------------------------------------

    def _reset_tracker(self) -> None:
        """Forget what idle reports were timed: after a create, a send or a resume."""
        self.tracker = ReadinessTracker(
            idle_grace=self.tracker.idle_grace, no_state_after=self.tracker.no_state_after
        )

    def _go(self, to: State) -> None:
        self.state = transition(self.state, to)

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
            self.hold.turn(now)

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
        self._go(Done(outcome))
        self.result.outcome = outcome
        self.result.error = error
        self.result.finished_at = time.time()
        text = outcome.value + (f": {error}" if error else "") + (f" ({note})" if note else "")
        self._event(text, final=True)


def _reason(error: BaseException) -> str:
    return error.message if isinstance(error, TasksError) else str(error)
