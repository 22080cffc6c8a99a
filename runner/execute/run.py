"""One task's way through an apply: its state (runner/execute/state.py) driven by the engine.

The engine calls `next_op` to get the one request this task wants to make now (run on a worker
thread), `finish` with that request's typed answer (runner/execute/requests.py), and `observe`
with what each poll's list request showed. All state changes happen on the engine's thread;
worker threads only make requests.

The steps live in modules of one job each: deleting (delete.py), creating and adopting
(create.py), the race between concurrent applies (race.py), follow-ups (send.py), watching a
task and deciding a finished wait (watch.py), the timeout (timeout.py), the end of a run
(ending.py) and what a run writes to its result (record.py). This class holds the run's data
and routes the engine's calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runner import defaults
from runner.errors import AuthError
from runner.execute import cleanup, create, delete, ending, race, record, send, timeout, watch
from runner.execute.listing import Listing
from runner.execute.requests import Op, Reply, Retry, resume_op, retire_op
from runner.execute.results import Event, Outcome, TaskResult
from runner.execute.state import (
    Adopting,
    CleaningUp,
    Concluding,
    Creating,
    Deleting,
    FollowingUp,
    Progress,
    Retiring,
    State,
    Step,
    Waiting,
    transition,
    unasked,
)
from runner.item import Item, ResolvedTask
from runner.manifest.model import DesiredTask
from runner.model_choice import model_name
from runner.plan import Action, ActionKind
from runner.readiness import ReadinessTracker

if TYPE_CHECKING:
    from runner.backends import Backend

#: Polls a known task may be missing from the list before it counts as gone.
MISSING_POLLS = watch.MISSING_POLLS


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
    """Drives one plan action to an outcome.

    What changes as it runs is its `state` (the step and that phase's data), its `progress`
    (what it carries across phases), both frozen values replaced through `go` and `update`,
    its readiness `tracker`, and its `result`, a frozen value replaced only by record.py.
    """

    def __init__(
        self,
        index: int,
        action: Action,
        existing: Item | None,
        resolved: ResolvedTask | None,
        settings: RunSettings,
        emit: Callable[[Event], None],
        backend: Backend,
    ) -> None:
        self.index = index  # the action's place in the plan: what its events are keyed by
        self.action = action
        self.backend = backend
        self.desired: DesiredTask | None = action.desired
        self.resolved = resolved
        self.settings = settings
        self.emit = emit
        self.replaced_id = existing.id if action.kind is ActionKind.REPLACE and existing else ""
        self.result = TaskResult(
            name=action.name,
            owner=action.owner,
            coder_name=action.coder_name,
            action=action.kind.value,
            task_id=existing.id if existing else None,
            model=model_name(action.desired, resolved),  # what the model comparison groups by
        )
        if existing is not None:
            record.task_seen(self, existing)
        grace = settings.idle_grace
        if grace is None:
            grace = self.desired.idle_grace_seconds if self.desired else defaults.IDLE_GRACE_SECONDS
        self.tracker = ReadinessTracker(idle_grace=grace, no_state_after=settings.no_state_after)
        delivered = action.delivered if action.logs_verified else 0
        self.progress = Progress(task=existing, delivered=delivered)
        self.retry: Retry | None = None  # set by `next_attempt`: this run sends a retry message
        self.state: State = initial_state(action.kind)

    def next_attempt(self, result: TaskResult, retry: Retry | None = None) -> None:
        """Run as the next attempt of the task whose earlier attempt `result` records (and go
        on from that result). With `retry`, the action's last follow-up is the retry message,
        sent at once whatever the failed attempt's agent shows; without, the action is the
        replace that makes the task again (runner/execute/retries.py)."""
        record.carried_on(self, result)
        self.retry = retry
        if retry is not None:
            self.state = FollowingUp(Step.SEND)

    def clean_up_now(self, result: TaskResult) -> None:
        """Run only the clean-up of the task whose final outcome `result` records (an entry
        whose outcome became final once its round was judged: runner/execute/cleanup.py)."""
        assert result.outcome is not None
        record.carried_on(self, result)
        self.state = CleaningUp(result.outcome)
        self.update(replace(self.progress, cost_counted=0))  # its cost is known already

    # -- engine interface -----------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state.step is Step.DONE

    @property
    def task(self) -> Item | None:
        return self.progress.task

    @property
    def deadline(self) -> float | None:
        return self.progress.deadline

    @property
    def not_before(self) -> float:
        return self.progress.not_before

    def start(self, now: float) -> None:
        """Called once when the engine takes the run up."""
        record.started(self)
        state = self.state
        if isinstance(state, Deleting) and self.task is None:
            ending.end(self, Outcome.FAILED, now, error="the task to delete was not observed")
            return
        if isinstance(state, FollowingUp):
            timeout.begin_wait(self, now)
            if self.action.kind is ActionKind.NOOP:
                record.event(
                    self, f"nothing to change; waiting until the agent is {self.wait_mode()}"
                )
            if not self.follow_ups_left():
                send.after_follow_ups(self, state.watch, now)

    def next_op(self, now: float) -> Op | None:
        """The request this task wants to make now, or None; the state then shows it asked."""
        state = self.state
        if state.step.asked or self.done or now < self.not_before:
            return None
        if isinstance(state, Creating):
            return create.start_create(self, now)
        task = self.task
        if task is None:
            return None
        if isinstance(state, Deleting):
            return delete.start_delete(self, task)
        if isinstance(state, Concluding):
            return cleanup.start_details(self, state, task)
        if isinstance(state, CleaningUp):
            return cleanup.start_clean_up(self, state, task)
        if isinstance(state, Retiring):
            self.go(Retiring(state.kept, Step.RETIRE_ASKED))
            return retire_op(self.backend, task)
        if isinstance(state, FollowingUp) and state.step is Step.SEND and self.desired is not None:
            return send.start_send(self, state, task, self.desired)
        if state.step is Step.RESUME_TO_SEND:
            self.go(FollowingUp(Step.RESUME_TO_SEND_ASKED, state.watch))
            return resume_op(self.backend, task)
        if isinstance(state, Waiting) and state.step is Step.RESUME_TO_WAIT:
            self.go(Waiting(Step.RESUME_TO_WAIT_ASKED, state.watch))
            return resume_op(self.backend, task)
        return None

    def finish(self, reply: Reply | None, error: BaseException | None, now: float) -> None:
        """Take the answer to the request `next_op` gave: a reply, or the error it raised."""
        state = self.state
        if isinstance(error, AuthError):
            self.go(unasked(state))  # refused: nothing happened
            raise error
        if isinstance(state, Deleting):
            delete.finish_delete(self, error, now)
        elif isinstance(state, Concluding):
            cleanup.finish_details(self, reply, error)
        elif isinstance(state, CleaningUp):
            cleanup.finish_clean_up(self, state, reply, error, now)
        elif isinstance(state, Creating):
            create.finish_create(self, reply, error, now)
        elif isinstance(state, Retiring):
            race.finish_retire(self, state, error, now)
        elif isinstance(state, FollowingUp) and state.step is Step.SEND_ASKED:
            send.finish_send(self, state, reply, error, now)
        elif isinstance(state, (FollowingUp, Waiting)):
            watch.finish_resume(self, state, error, now)

    def observe(self, listing: Listing, now: float) -> None:
        """Take one poll's view of the batch's items."""
        state = self.state
        if isinstance(state, Adopting):
            create.adopt(self, state, listing, now)
        elif isinstance(state, (FollowingUp, Waiting)):
            if state.step in (Step.SETTLE, Step.WAIT) and race.lost_race(self, listing):
                return
            confirmed = self.progress.confirmed
            if self.wait_mode() == "none" and isinstance(state, Waiting) and confirmed:
                # It waited only for a poll to show the chat it created alone (race.py).
                ending.end(self, Outcome.OK, now)
                return
            watch.observe_watched(self, state, listing.by_id.get(self.result.task_id or ""), now)

    def check_deadline(self, now: float) -> None:
        """End the run with a timeout once its wait has run past the task's timeout."""
        timeout.check_deadline(self, now)

    def interrupt(self) -> None:
        ending.stop(self, Outcome.INTERRUPTED, "")

    def skip(self, why: str, now: float) -> None:
        """End a run the batch's budget stops before it creates or sends anything more."""
        ending.end(self, Outcome.SKIPPED, now, error=why)

    def lose_contact(self, why: str) -> None:
        """End a run the deployment could no longer be asked about."""
        ending.stop(self, Outcome.UNKNOWN, why)

    # -- what the step modules share --------------------------------------------------------

    def go(self, to: State) -> None:
        """The one way the state changes: checked against state.TRANSITIONS."""
        self.state = transition(self.state, to)

    def update(self, progress: Progress) -> None:
        """The one way the progress changes (pass `dataclasses.replace(run.progress, ...)`)."""
        self.progress = progress

    def retry_later(self, now: float) -> None:
        """No request before the next poll interval: a retry's pause."""
        self.update(replace(self.progress, not_before=now + self.settings.poll_interval))

    def reset_tracker(self) -> None:
        """Forget what idle reports were timed: after a create, a send or a resume."""
        self.tracker = ReadinessTracker(
            idle_grace=self.tracker.idle_grace, no_state_after=self.tracker.no_state_after
        )

    def follow_ups(self) -> tuple[str, ...]:
        return self.desired.follow_ups if self.desired else ()

    def follow_ups_left(self) -> int:
        return max(0, len(self.follow_ups()) - self.progress.delivered)

    def wait_mode(self) -> str:
        return self.desired.wait if self.desired else "none"
