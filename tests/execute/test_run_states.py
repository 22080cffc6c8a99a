"""The task run's state machine: its transition table, its typed states, and runs driven by hand.

A run is driven without an engine or threads: `next_op` gives the request (the state then shows
it asked), the test runs it against an in-memory backend and hands the typed answer to
`finish`, and `observe` gets the list a poll would have shown. Every assertion is on the typed
state (`run.state`), besides the result a report would show.
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from plan.helpers import ME, task_json

from runner.backends.tasks import TasksBackend, as_item
from runner.backends.versions import VersionVerdicts
from runner.coder.errors import ARCHIVE_ACTIVE_MESSAGE, is_archive_of_active_chat
from runner.coder.models import Organization, Task, Template, TemplateVersion, User
from runner.errors import (
    AgentBusyError,
    AuthError,
    ConflictError,
    NotFoundError,
    ServerError,
    UncertainOutcomeError,
)
from runner.execute.cleanup import PATIENCE_SECONDS, RETRY_SECONDS, UNFINISHED
from runner.execute.listing import Listing
from runner.execute.requests import (
    CleanedUp,
    Created,
    Deleted,
    NotYet,
    Op,
    Read,
    Reply,
    Resumed,
    Retired,
    Sent,
)
from runner.execute.results import Event, Outcome
from runner.execute.run import MISSING_POLLS, RunSettings, TaskRun, initial_state
from runner.execute.state import (
    CONCLUDED_FROM_ANY_END,
    TRANSITIONS,
    Adopting,
    CleaningUp,
    Concluding,
    Creating,
    Deleting,
    Done,
    Doubt,
    FollowingUp,
    Phase,
    Retiring,
    SentMark,
    Step,
    Waiting,
    Watch,
    transition,
    unasked,
)
from runner.item import AgentState, Delivered, Deployment, Item, ItemDetails, Message, ResolvedTask
from runner.manifest.model import DesiredTask, Expectations
from runner.plan import Action, ActionKind
from runner.readiness import ARCHIVE_RETRY_SECONDS

STATE_CLASSES = (
    Deleting,
    Creating,
    Adopting,
    Retiring,
    FollowingUp,
    Waiting,
    Concluding,
    CleaningUp,
    Done,
)

# -- the table ---------------------------------------------------------------------------------


def test_every_step_leads_to_done_and_done_leads_nowhere() -> None:
    assert TRANSITIONS[Step.DONE] == frozenset()
    assert set(TRANSITIONS) == set(Step)
    for step in Step:
        seen, todo = {step}, [step]
        while todo:
            for after in TRANSITIONS[todo.pop()]:
                if after not in seen:
                    seen.add(after)
                    todo.append(after)
        assert Step.DONE in seen, step


def test_every_step_may_be_stopped_and_stays_in_its_phase_or_moves_forward() -> None:
    order = list(Phase)
    for step, successors in TRANSITIONS.items():
        if step is not Step.DONE:
            assert Step.DONE in successors, step  # an interrupt or lost contact ends any step
        for after in successors:
            back = order.index(after.phase) < order.index(step.phase)
            # Only a replace's delete and a create found not to have happened go back to create,
            # and only the first poll after a create, finding it a younger duplicate, to retire.
            assert not back or after in (Step.CREATE, Step.RETIRE), (step, after)


def test_a_request_on_the_wire_is_left_only_by_its_answer() -> None:
    asked = {step for step in Step if step.asked}
    assert asked == {
        Step.DELETE_ASKED,
        Step.CREATE_ASKED,
        Step.RETIRE_ASKED,
        Step.SEND_ASKED,
        Step.RESUME_TO_SEND_ASKED,
        Step.RESUME_TO_WAIT_ASKED,
        Step.DETAILS_ASKED,
        Step.CLEAN_UP_ASKED,
    }
    for step in asked:
        assert not (TRANSITIONS[step] & asked), step  # answered before anything else is asked
        assert step not in TRANSITIONS[step]  # no request is answered by itself
        assert not step.watches  # a poll never decides for a request on the wire
    # Only the step that wants a request asks it.
    askers = {before for before, after in _edges() if after.asked}
    assert askers == {
        Step.DELETE,
        Step.CREATE,
        Step.RETIRE,
        Step.SEND,
        Step.RESUME_TO_SEND,
        Step.RESUME_TO_WAIT,
        Step.DETAILS,
        Step.CLEAN_UP,
    }


def test_polls_decide_only_for_adoption_and_watched_steps() -> None:
    watching = {step for step in Step if step.watches}
    assert watching == {
        Step.ADOPT,
        Step.SETTLE,
        Step.SEND,
        Step.RESUME_TO_SEND,
        Step.WAIT,
        Step.RESUME_TO_WAIT,
    }


def test_each_state_class_holds_exactly_the_steps_of_its_phase() -> None:
    held: dict[Step, type] = {}
    for cls in STATE_CLASSES:
        steps = typing.get_args(typing.get_type_hints(cls, include_extras=True)["step"])
        if typing.get_origin(typing.get_type_hints(cls)["step"]) is typing.ClassVar:
            (literal,) = steps
            steps = typing.get_args(literal)
        assert steps, cls
        for step in steps:
            assert step not in held, (step, cls, held.get(step))
            held[step] = cls
        assert len({step.phase for step in steps}) == 1, cls
    assert set(held) == set(Step)
    # "Ready to send" and a send on the wire exist only while follow-ups are sent.
    assert held[Step.SEND] is FollowingUp and held[Step.SEND_ASKED] is FollowingUp


def _edges() -> list[tuple[Step, Step]]:
    """Every transition of the table, in the order of `Step` (the same in every process)."""
    return [(before, after) for before in Step for after in Step if after in TRANSITIONS[before]]


def _conclusions() -> list[tuple[Step, Step]]:
    """Wherever a run may end, it may conclude or clean up instead (its outcome decided)."""
    return [
        (before, after)
        for before in Step
        for after in Step
        if Step.DONE in TRANSITIONS[before] and after in CONCLUDED_FROM_ANY_END
    ]


def test_only_a_concluded_run_cleans_up_and_nothing_leaves_its_tail_but_done() -> None:
    for step in (Step.DETAILS, Step.DETAILS_ASKED, Step.CLEAN_UP, Step.CLEAN_UP_ASKED):
        assert step.concluded and not step.watches
        assert TRANSITIONS[step] <= {Step.DETAILS, Step.CLEAN_UP, *TRANSITIONS[step], Step.DONE}
        assert all(after.concluded for after in TRANSITIONS[step])
    assert not any(step.concluded for step in Step if step.phase.value in ("create", "wait"))


@pytest.mark.parametrize(("before", "after"), _conclusions())
def test_a_run_may_conclude_wherever_it_may_end(before: Step, after: Step) -> None:
    current, to = _state_at(before), _state_at(after)
    assert transition(current, to) is to


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (Waiting(), FollowingUp(Step.SEND)),  # follow-ups are never sent after the wait began
        (Waiting(), FollowingUp()),
        (FollowingUp(), Creating()),
        (FollowingUp(), FollowingUp(Step.SEND_ASKED)),  # a send is asked only when ready
        (FollowingUp(Step.SEND_ASKED), FollowingUp(Step.RESUME_TO_SEND)),
        (Creating(), Adopting(Doubt.LOST)),  # doubt comes only from a create's answer
        (Creating(), FollowingUp()),  # a task is taken only from a create's answer
        (Done(Outcome.OK), Waiting()),
        (Done(Outcome.OK), Done(Outcome.FAILED)),
        (Deleting(), Waiting()),
        (Deleting(), Creating()),  # a replace creates only once its delete was answered
        (Waiting(Step.RESUME_TO_WAIT_ASKED), Waiting(Step.RESUME_TO_WAIT_ASKED)),
    ],
)
def test_a_transition_outside_the_table_is_refused(current: Any, to: Any) -> None:
    with pytest.raises(RuntimeError, match=f"from {current.step.value} to {to.step.value}"):
        transition(current, to)


@pytest.mark.parametrize(("before", "after"), _edges())
def test_transition_accepts_every_change_in_the_table(before: Step, after: Step) -> None:
    current, to = _state_at(before), _state_at(after)
    assert transition(current, to) is to


def _state_at(step: Step) -> Any:
    if step is Step.ADOPT:
        return Adopting(Doubt.CONFLICT)
    if step.phase is Phase.RETIRE:
        return Retiring(as_item(Task.from_json(task_json("a", "Do A"))), step)
    if step is Step.DONE:
        return Done(Outcome.OK)
    if step.phase is Phase.CONCLUDE:
        return Concluding(Outcome.OK, step)
    if step.phase is Phase.CLEAN_UP:
        return CleaningUp(Outcome.OK, None, step)
    cls = {Phase.DELETE: Deleting, Phase.CREATE: Creating, Phase.FOLLOW_UPS: FollowingUp}
    return cls.get(step.phase, Waiting)(step)


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (ActionKind.DELETE, Deleting()),
        (ActionKind.REPLACE, Deleting()),
        (ActionKind.CREATE, Creating()),
        (ActionKind.SEND, FollowingUp(Step.SETTLE, Watch())),
        (ActionKind.NOOP, FollowingUp(Step.SETTLE, Watch())),
    ],
)
def test_where_each_plan_action_starts(kind: ActionKind, state: Any) -> None:
    assert initial_state(kind) == state


def test_a_sent_mark_matches_until_the_agent_reports_anew() -> None:
    task = as_item(Task.from_json(task_json("a", "Do A")))
    mark = SentMark.of(task, 5.0)
    assert (mark.state, mark.at) == ("idle", 5.0)
    assert mark.matches(task)
    assert not mark.matches(_with_state(task, "working", second=1))
    assert not mark.matches(_with_state(task, "idle", second=2))  # a new report, same state


# -- runs driven by hand -----------------------------------------------------------------------


class MemoryBackend:
    """Just enough of a backend for one run; `errors` makes the next request of a kind fail."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.inputs: dict[str, list[str]] = {}
        self.errors: dict[str, BaseException] = {}
        self.resumes = 0
        self.resumable = True
        self.unique = True  # False: as on Chats, two applies may create one item twice
        self.retired: list[str] = []
        self.last_message = ""
        self.cleaned: list[tuple[str, str]] = []
        self.refuse_clean_up: BaseException | None = None  # every clean-up refused with it
        self.versions = VersionVerdicts()
        #: Item id -> whether this run's create made it (the Chats `tasks/run` label); no entry:
        #: no mark, as on Tasks.
        self.marks: dict[str, bool] = {}

    @property
    def kind(self) -> str:
        return "tasks"

    def made_here(self, item: Item) -> bool | None:
        return self.marks.get(item.id)

    @property
    def deployment(self) -> Deployment:
        return Deployment("v2.34.2", "v2.34.2", "https://coder.example.com")

    @property
    def unique_names(self) -> bool:
        return self.unique

    @property
    def can_resume(self) -> bool:
        return self.resumable

    def me(self) -> User:
        return ME

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        return {}

    def list_items(self, owner: str | None, batch: str = "") -> list[Item]:
        return list(self.items)

    def dashboard_path(self, item: Item) -> str:
        return f"/tasks/{item.owner_name}/{item.id}"

    def delivered_inputs(self, item: Item, *, read: bool = False) -> Delivered:
        return Delivered(tuple(self.inputs[item.id]))

    # The Tasks backend's rule for template versions, over `self.versions`.
    create_refused = TasksBackend.create_refused
    claim_create = TasksBackend.claim_create
    settle_create = TasksBackend.settle_create

    def retire_refused_for_now(self, error: BaseException) -> bool:
        # As the Chats backend: Coder archives no chat still interrupting (CHATS-CONTRACT 7.2).
        return isinstance(error, ConflictError) and is_archive_of_active_chat(error)

    def no_later_than(self, instant: float, why: str) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Item:
        self._fail("create-before")
        data = task_json(desired.coder_name, desired.prompt, display_name=desired.display_name)
        task = as_item(Task.from_json(data))
        self.items.append(task)
        self.inputs[task.id] = [desired.prompt]
        if not self.unique:
            self.marks[task.id] = True
        self._fail("create")  # made, but the answer did not come back
        return task

    def retire(self, item: Item) -> None:
        self._fail("retire")
        self.retired.append(item.id)
        self.items = [t for t in self.items if t.id != item.id]  # archived: no longer listed

    def older_duplicate(self, of: Item) -> Item:
        """What a concurrent apply's create leaves: an older item of the same name."""
        older = replace(of, id=f"0-{of.id}", created_at=START - timedelta(hours=1))
        self.items.append(older)
        self.marks[older.id] = False
        self.inputs[older.id] = list(self.inputs[of.id])
        return older

    @property
    def recreates_failed(self) -> bool:
        return True

    def send(self, item: Item, message: Message) -> bool:
        self._fail("send-before")
        self.inputs[item.id].append(message.text)
        self._fail("send")
        return True

    def delete(self, item: Item) -> None:
        self._fail("delete")
        self.items = [t for t in self.items if t.id != item.id]

    def resume(self, item: Item) -> None:
        self._fail("resume")
        self.resumes += 1
        self.update(item.id, status="active")

    @property
    def has_cost(self) -> bool:
        return False

    def details(self, item: Item, *, last_text: bool = False) -> ItemDetails:
        self._fail("details")
        return ItemDetails(last_message=self.last_message)

    def clean_up(self, item: Item, after: str) -> str:
        if self.refuse_clean_up is not None:
            raise self.refuse_clean_up
        self._fail("clean_up")
        self.cleaned.append((item.id, after))
        return "removed" if after == "remove" else "stopped"

    def update(self, task_id: str, **changes: Any) -> Item:
        (found,) = [t for t in self.items if t.id == task_id]
        changed = replace(found, **changes)
        self.items = [changed if t.id == task_id else t for t in self.items]
        return changed

    def _fail(self, kind: str) -> None:
        error = self.errors.pop(kind, None)
        if error is not None:
            raise error


def _resolved(version: str = "v-1") -> ResolvedTask:
    return ResolvedTask(
        ME,
        Organization("org-1", "coder"),
        Template("tpl-1", "claude-code", "org-1", "v-1"),
        TemplateVersion(version, "v1", "tpl-1"),
        None,
    )


#: When the agent's first report is timestamped (plan.helpers.task_json).
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _with_state(task: Item, state: str, *, second: int) -> Item:
    return replace(task, current_state=AgentState(state, "", START.replace(second=second)))


SETTINGS = RunSettings(idle_grace=0.0, poll_interval=1.0, no_state_after=5.0, broken_after=10.0)


class Driver:
    """One run and its backend; `events` are the texts the run emitted (status lines left out)."""

    def __init__(
        self,
        kind: ActionKind = ActionKind.CREATE,
        *,
        follow_ups: tuple[str, ...] = (),
        wait: str = "idle",
        existing: bool = False,
        versions: VersionVerdicts | None = None,
        template_version: str | None = None,
        unique: bool = True,
        after: str = "",
        retries: int = 0,
        expect: Expectations | None = None,
    ) -> None:
        self.want = DesiredTask(
            "nightly",
            "a",
            "Do A",
            "claude-code",
            follow_ups=follow_ups,
            wait=wait,
            timeout_seconds=100.0,
            template_version=template_version,
            after=after or "keep",
            retries=retries,
            expect=expect or Expectations(),
        )
        self.backend = MemoryBackend()
        self.backend.unique = unique
        task = None
        if existing:
            data = task_json(self.want.coder_name, "Do A", display_name=self.want.display_name)
            task = as_item(Task.from_json(data))
            self.backend.items.append(task)
            self.backend.inputs[task.id] = ["Do A"]
        action = Action(
            kind,
            "a",
            "alice",
            self.want.coder_name,
            self.want,
            task_id=task.id if task else None,
            follow_ups=follow_ups,
            after=after,
        )
        self.events: list[str] = []
        #: Every change of state the run made, as (step before, step after).
        self.taken: list[tuple[Step, Step]] = []
        if versions is not None:
            self.backend.versions = versions
        self.run = TaskRun(0, action, task, _resolved(), SETTINGS, self._emit, self.backend)

    def _emit(self, event: Event) -> None:
        if not event.status_only:
            self.events.append(event.text)

    @property
    def task_id(self) -> str:
        return self.run.result.task_id or ""

    @property
    def seen(self) -> list[Step]:
        """The step after each change of state."""
        return [after for _, after in self.taken]

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        """Record the change of state one call to the run made (each makes one at most)."""
        before = self.run.state
        try:
            yield
        finally:
            if self.run.state != before:
                self.taken.append((before.step, self.run.state.step))
                for taken in RECORDING:
                    taken.add(self.taken[-1])

    def start(self, now: float) -> None:
        with self._call():
            self.run.start(now)

    def ask(self, now: float) -> Op | None:
        with self._call():
            return self.run.next_op(now)

    def answer(self, reply: Reply | None, error: BaseException | None, now: float) -> None:
        with self._call():
            self.run.finish(reply, error, now)

    def step(self, now: float) -> Reply | BaseException | None:
        """Make the request the run wants now and hand its answer back; None when it wants none."""
        op = self.ask(now)
        if op is None:
            return None
        assert self.run.state.step.asked  # the state shows the request on the wire
        assert self.ask(now) is None  # one request at a time
        try:
            reply, error = op(), None
        except Exception as failed:
            reply, error = None, failed
        self.answer(reply, error, now)
        return reply if error is None else error

    def poll(self, now: float) -> None:
        assert self.run.state.step.watches
        listing = Listing.of(self.backend.list_items(None, ""), self.backend.made_here)
        with self._call():
            self.run.observe(listing, now)

    def deadline(self, now: float) -> None:
        with self._call():
            self.run.check_deadline(now)

    def interrupt(self) -> None:
        with self._call():
            self.run.interrupt()

    def lose_contact(self, why: str) -> None:
        with self._call():
            self.run.lose_contact(why)

    def change(self, **changes: Any) -> None:
        """The task as the next poll lists it: `changes` applied."""
        self.backend.update(self.task_id, **changes)

    def report(self, state: str, *, second: int) -> None:
        """The agent reports `state` anew (its report gets another timestamp)."""
        (task,) = self.backend.items
        self.backend.update(
            task.id, current_state=_with_state(task, state, second=second).current_state
        )


#: While a set is here, every Driver adds the transitions its run takes to it.
RECORDING: list[set[tuple[Step, Step]]] = []


def test_a_lost_create_is_adopted_then_follow_ups_then_the_wait() -> None:
    d = Driver(follow_ups=("one",))
    d.backend.errors["create"] = UncertainOutcomeError("the response was lost")
    run = d.run
    d.start(0.0)
    assert isinstance(d.step(0.0), UncertainOutcomeError)
    assert run.state == Adopting(Doubt.LOST)
    d.poll(1.0)  # the listing finds the task the lost create made: adopted
    assert run.state == FollowingUp(Step.SETTLE, Watch())
    d.poll(2.0)  # idle (grace 0): ready for the follow-up
    assert run.state == FollowingUp(Step.SEND, Watch())
    assert d.step(2.0) == Sent(1, already_delivered=False)
    # The last follow-up went out: the wait begins, the state seen at the send marked stale.
    assert isinstance(run.state, Waiting) and run.state.step is Step.WAIT
    assert run.state.watch.sent == SentMark("idle", START, 2.0)
    d.poll(3.0)  # the same report as at the send: stale, so not idle yet
    assert isinstance(run.state, Waiting) and run.state.watch.sent is not None
    d.poll(8.0)  # no_state_after passed without a new report: the agent counts as idle
    assert run.state == Done(Outcome.OK)
    assert run.result.outcome is Outcome.OK
    assert run.result.done == ("adopted (created, response lost)", "sent follow-up 1/1")
    assert d.backend.inputs[d.task_id] == ["Do A", "one"]
    assert d.seen == [
        Step.CREATE_ASKED,
        Step.ADOPT,
        Step.SETTLE,
        Step.SEND,
        Step.SEND_ASKED,
        Step.WAIT,
        Step.DONE,
    ]


def test_a_create_on_the_wire_when_stopped_is_reported_as_unknown_not_missing() -> None:
    d = Driver()
    d.start(0.0)
    assert d.ask(0.0) is not None
    assert d.run.state == Creating(Step.CREATE_ASKED)
    d.interrupt()
    assert d.run.state == Done(Outcome.UNKNOWN)
    assert d.run.result.outcome is Outcome.UNKNOWN
    assert d.run.result.error == "create outcome unknown; a re-run adopts it"


def test_a_create_in_doubt_when_contact_is_lost_is_reported_as_unknown() -> None:
    d = Driver()
    d.backend.errors["create"] = ServerError(502, "bad gateway")
    d.start(0.0)
    d.step(0.0)
    assert d.run.state == Adopting(Doubt.LOST)
    d.lose_contact("lost contact with the deployment")
    assert d.run.state == Done(Outcome.UNKNOWN)
    assert d.run.result.error == "create outcome unknown; a re-run adopts it"


def test_a_create_not_yet_sent_when_stopped_is_plainly_interrupted() -> None:
    d = Driver()
    d.start(0.0)
    d.interrupt()
    assert d.run.state == Done(Outcome.INTERRUPTED)
    assert d.run.result.error == ""


def test_a_create_refused_for_the_token_goes_back_to_create_and_stops_the_run() -> None:
    d = Driver()
    d.backend.errors["create-before"] = AuthError(401, "unauthorized")
    d.start(0.0)
    with pytest.raises(AuthError):
        d.step(0.0)
    assert d.run.state == Creating()  # nothing was created: not in doubt
    d.lose_contact("the token was refused")
    assert d.run.state == Done(Outcome.UNKNOWN)
    assert d.run.result.error == "the token was refused"


def test_a_create_of_a_refused_version_ends_without_a_request() -> None:
    versions = VersionVerdicts()
    versions.settle("v-1", claimed=False, refused="not an AI task template")
    d = Driver(versions=versions)
    d.start(0.0)
    assert d.ask(0.0) is None
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "not an AI task template"
    assert d.backend.items == []


def test_a_create_waits_while_another_create_tries_its_pinned_version() -> None:
    versions = VersionVerdicts()
    assert versions.claim("v-1", judged_before=False)  # another task's create is trying it
    d = Driver(versions=versions, template_version="v1")
    d.start(0.0)
    assert d.ask(0.0) is None
    assert d.run.state == Creating()  # still to create, nothing asked
    versions.settle("v-1", claimed=True, accepted=True)
    assert isinstance(d.step(1.0), Created)
    assert d.run.state == Waiting(Step.WAIT, Watch())  # no follow-ups: straight to the wait


def test_a_taken_name_not_listed_is_created_again_after_a_pause() -> None:
    d = Driver()
    d.backend.errors["create-before"] = ConflictError(409, "name taken")
    d.start(0.0)
    assert isinstance(d.step(0.0), ConflictError)
    assert d.run.state == Adopting(Doubt.CONFLICT)
    d.poll(1.0)  # nothing of that name listed: held by a workspace being deleted
    assert d.run.state == Creating()
    assert d.run.not_before == 2.0
    assert d.step(1.5) is None  # not before the pause is over
    assert isinstance(d.step(2.0), Created)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    assert "name still reserved (a workspace is being deleted?); waiting" in d.events


def test_a_taken_name_held_by_another_batch_is_not_adopted() -> None:
    d = Driver()
    d.backend.items.append(as_item(Task.from_json(task_json(d.want.coder_name, "Do A"))))  # no mark
    d.backend.errors["create-before"] = ConflictError(409, "name taken")
    d.start(0.0)
    d.step(0.0)
    d.poll(1.0)
    assert d.run.state == Done(Outcome.FAILED)
    assert "belongs to another batch or was made by hand" in d.run.result.error


def test_a_name_taken_by_the_same_task_of_this_batch_is_adopted() -> None:
    d = Driver()
    data = task_json(d.want.coder_name, "Do A", display_name=d.want.display_name)
    d.backend.items.append(as_item(Task.from_json(data)))  # a concurrent apply created it
    d.backend.errors["create-before"] = ConflictError(409, "name taken")
    d.start(0.0)
    d.step(0.0)
    d.poll(1.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    assert d.run.result.done == ("adopted (created concurrently)",)
    assert d.seen == [Step.CREATE_ASKED, Step.ADOPT, Step.WAIT]


def test_a_created_task_with_follow_ups_settles_before_the_first() -> None:
    d = Driver(follow_ups=("one",))
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch())
    assert d.ask(0.0) is None  # nothing is sent before a poll shows the agent idle


def test_a_created_task_with_nothing_to_wait_for_is_done() -> None:
    d = Driver(wait="none")
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    assert d.run.state == Done(Outcome.OK)


def test_a_delete_is_retried_until_accepted() -> None:
    d = Driver(ActionKind.DELETE, existing=True)
    d.start(0.0)
    assert d.run.state == Deleting()
    d.backend.errors["delete"] = ConflictError(409, "build running")
    assert isinstance(d.step(0.0), ConflictError)
    assert d.run.state == Deleting()  # to delete again, after a pause
    assert d.ask(0.5) is None
    assert isinstance(d.step(1.0), Deleted)
    assert d.run.state == Done(Outcome.DELETED)
    assert d.backend.items == []


def test_a_delete_refused_while_coder_interrupts_is_asked_again_shortly_not_waited() -> None:
    # Destroy and prune archive a chat before its workspace; v2.35+ refuses that (409) while
    # the chat is `interrupting` (CHATS-CONTRACT 7.2). The backend tries once; the run asks
    # again after a short pause of the engine's clock, so no worker thread sleeps it out.
    d = Driver(ActionKind.DELETE, existing=True)
    d.start(0.0)
    d.backend.errors["delete"] = ConflictError(409, ARCHIVE_ACTIVE_MESSAGE)
    assert isinstance(d.step(0.0), ConflictError)
    assert d.run.state == Deleting() and d.run.not_before == ARCHIVE_RETRY_SECONDS
    assert d.ask(ARCHIVE_RETRY_SECONDS / 2) is None
    assert not any("not accepted" in event for event in d.events)  # a pause, not a failure
    assert d.run.deadline is not None  # bounded by the delete's timeout, as any refusal
    assert isinstance(d.step(ARCHIVE_RETRY_SECONDS), Deleted)
    assert d.run.state == Done(Outcome.DELETED)


# -- the end of a run: its details read, its expectations judged, then its clean-up -------------


def _finished(d: Driver) -> Driver:
    """`d` created its task and a poll found the agent idle: the outcome is decided."""
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    d.poll(1.0)
    assert d.run.state.step is not Step.WAIT
    return d


def test_a_finished_run_reads_its_result_then_cleans_up_at_once() -> None:
    d = _finished(Driver(after="stop"))
    assert d.run.state == Concluding(Outcome.OK) and d.events[-1] == "ok"
    d.backend.last_message = "all done"
    assert d.step(1.0) == Read(ItemDetails(last_message="all done"))
    assert d.run.result.details_read and d.run.result.last_message == "all done"
    assert d.run.state == CleaningUp(Outcome.OK)
    assert d.step(1.0) == CleanedUp("stopped")
    assert d.run.state == Done(Outcome.OK) and d.backend.cleaned == [(d.task_id, "stop")]
    assert d.run.result.clean_up == "stopped" and d.events[-1] == "stopped"
    assert d.seen[-5:] == [
        Step.DETAILS,
        Step.DETAILS_ASKED,
        Step.CLEAN_UP,
        Step.CLEAN_UP_ASKED,
        Step.DONE,
    ]


def test_a_run_without_after_ends_as_before() -> None:
    d = _finished(Driver())
    assert d.run.state == Done(Outcome.OK) and d.backend.cleaned == []


def test_a_clean_up_refused_for_now_is_asked_again_after_a_pause_not_waited() -> None:
    # One attempt per step: the refusal (409: a chat still interrupting, a build still
    # running) comes back to the engine, and the run asks again once its pause has passed.
    d = _finished(Driver(after="remove"))
    d.step(1.0)
    d.backend.errors["clean_up"] = ConflictError(409, ARCHIVE_ACTIVE_MESSAGE)
    assert isinstance(d.step(2.0), ConflictError)
    assert d.run.state == CleaningUp(Outcome.OK, refused_since=2.0)
    assert d.run.not_before == 2.0 + RETRY_SECONDS and d.ask(2.0) is None
    assert d.step(2.0 + RETRY_SECONDS) == CleanedUp("removed")
    assert d.run.state == Done(Outcome.OK) and d.run.result.clean_up == "removed"


def test_a_clean_up_refused_past_its_patience_fails_the_task_with_the_refusal() -> None:
    d = _finished(Driver(after="remove"))
    d.step(1.0)
    d.backend.refuse_clean_up = ConflictError(409, ARCHIVE_ACTIVE_MESSAGE)
    now = 2.0
    while not d.run.done:
        assert now < 2.0 + PATIENCE_SECONDS + 2 * RETRY_SECONDS  # bounded by the patience
        d.step(now)
        now += RETRY_SECONDS
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.clean_up.startswith(f"remove failed: {ARCHIVE_ACTIVE_MESSAGE}")
    assert d.run.result.error == d.run.result.clean_up and d.events[-1] == d.run.result.clean_up


def test_an_unmet_expectation_is_judged_before_the_clean_up_which_still_follows() -> None:
    d = _finished(Driver(after="stop", expect=Expectations(message="tests pass")))
    d.backend.last_message = "tests fail"
    d.step(1.0)
    assert d.run.result.outcome is Outcome.FAILED and d.run.result.unmet
    assert d.run.state == CleaningUp(Outcome.FAILED)  # failed: the agent's work is over


def test_a_run_a_retry_may_follow_is_left_to_its_round_uncleaned() -> None:
    d = _finished(Driver(after="stop", retries=1, expect=Expectations(message="tests pass")))
    d.step(1.0)
    assert d.run.state == Done(Outcome.FAILED) and d.backend.cleaned == []


def test_a_result_that_cannot_be_read_is_unknown_and_not_cleaned_up() -> None:
    d = _finished(Driver(after="remove", expect=Expectations(message="tests pass")))
    d.backend.errors["details"] = ServerError(500, "boom")
    assert d.step(1.0) == Read(None)
    assert d.run.state == Done(Outcome.UNKNOWN) and d.backend.cleaned == []


def test_a_clean_up_failing_otherwise_fails_the_task_at_once() -> None:
    d = _finished(Driver(after="stop"))
    d.step(1.0)
    d.backend.errors["clean_up"] = NotFoundError(404, "gone")
    assert isinstance(d.step(1.0), NotFoundError)
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.clean_up.startswith("stop failed: gone")


def test_a_delete_of_a_task_not_observed_fails_at_start() -> None:
    d = Driver(ActionKind.DELETE)
    d.start(0.0)
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "the task to delete was not observed"


def test_a_replace_deletes_then_creates() -> None:
    d = Driver(ActionKind.REPLACE, existing=True)
    d.backend.errors["delete"] = NotFoundError(404, "gone")
    d.start(0.0)
    assert isinstance(d.step(0.0), NotFoundError)
    assert d.run.state == Creating()
    assert d.run.result.task_id is None
    assert isinstance(d.step(0.0), Created)
    assert d.run.result.done == ("already gone", "created")


def _sending(follow_ups: tuple[str, ...] = ("one", "two")) -> Driver:
    """A run of an existing task with follow-ups to send, idle (grace 0) at its first poll."""
    d = Driver(ActionKind.SEND, follow_ups=follow_ups, existing=True)
    d.start(0.0)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch())
    return d


def test_follow_ups_are_sent_one_per_idle_agent() -> None:
    d = _sending()
    d.poll(1.0)
    assert d.run.state == FollowingUp(Step.SEND, Watch())
    assert d.step(1.0) == Sent(1, already_delivered=False)
    state = d.run.state
    assert isinstance(state, FollowingUp) and state.step is Step.SETTLE
    assert state.watch.sent is not None and state.watch.sent.at == 1.0
    d.poll(2.0)  # the report seen at the send: stale
    assert d.run.state == state
    d.report("idle", second=9)
    d.poll(3.0)  # a new idle report: the mark is cleared and the agent is ready
    assert d.run.state == FollowingUp(Step.SEND, Watch())
    assert d.step(3.0) == Sent(2, already_delivered=False)
    assert isinstance(d.run.state, Waiting)
    assert d.backend.inputs[d.task_id] == ["Do A", "one", "two"]


def test_a_ready_send_is_dropped_when_the_agent_works_again() -> None:
    d = _sending()
    d.poll(1.0)
    assert d.run.state.step is Step.SEND
    d.report("working", second=3)
    d.poll(2.0)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch())
    assert d.ask(2.0) is None


def test_a_busy_agent_sends_the_run_back_to_settle() -> None:
    d = _sending()
    d.poll(1.0)
    d.backend.errors["send-before"] = AgentBusyError(409, "busy")
    assert isinstance(d.step(1.0), AgentBusyError)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch())
    assert d.backend.inputs[d.task_id] == ["Do A"]


def test_a_send_of_unknown_outcome_is_asked_again_after_reading_the_logs() -> None:
    d = _sending(("one",))
    d.poll(1.0)
    d.backend.errors["send"] = UncertainOutcomeError("the response was lost")
    assert isinstance(d.step(1.0), UncertainOutcomeError)
    assert d.run.state == FollowingUp(Step.SEND, Watch())  # still ready, after a pause
    assert d.ask(1.5) is None
    assert d.step(2.0) == Sent(1, already_delivered=True)  # the logs show it: not sent again
    assert d.backend.inputs[d.task_id] == ["Do A", "one"]
    assert d.run.state == Waiting(Step.WAIT, Watch())  # nothing was sent: no stale mark
    assert "the logs show 1 follow-up(s) delivered; not sent again" in d.run.result.done
    assert d.run.result.follow_ups_sent == 0


def test_a_paused_task_is_resumed_before_the_next_send() -> None:
    d = _sending()
    d.poll(1.0)
    assert d.run.state.step is Step.SEND
    d.change(status="paused")
    d.poll(2.0)
    assert d.run.state == FollowingUp(Step.RESUME_TO_SEND, Watch())  # the ready send is dropped
    d.poll(2.5)  # paused again: still to resume, said once
    assert d.run.state == FollowingUp(Step.RESUME_TO_SEND, Watch())
    assert d.events.count("task is paused; resuming it") == 1
    assert isinstance(d.step(3.0), Resumed)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch())
    d.poll(4.0)
    assert d.run.state.step is Step.SEND
    assert d.backend.resumes == 1


def test_a_failed_resume_is_tried_again_after_a_pause() -> None:
    d = Driver(ActionKind.NOOP, existing=True)
    d.start(0.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    d.change(status="paused")
    d.poll(1.0)
    assert d.run.state == Waiting(Step.RESUME_TO_WAIT, Watch())
    d.backend.errors["resume"] = ServerError(500, "boom")
    assert isinstance(d.step(1.0), ServerError)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    assert d.run.not_before == 2.0
    d.poll(2.0)  # still paused
    assert d.run.state == Waiting(Step.RESUME_TO_WAIT, Watch())
    assert isinstance(d.step(2.0), Resumed)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    d.poll(3.0)
    assert d.run.state == Done(Outcome.UNCHANGED)  # only waited: nothing was changed


def test_a_paused_task_on_a_server_that_cannot_resume_fails() -> None:
    d = _sending()
    d.backend.resumable = False
    d.change(status="paused")
    d.poll(1.0)
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "the task is paused and this server cannot resume"


def test_a_task_missing_from_the_list_counts_polls_then_fails() -> None:
    d = _sending()
    gone = d.backend.items.pop()
    for polls in range(1, MISSING_POLLS):
        d.poll(float(polls))
        assert d.run.state == FollowingUp(Step.SETTLE, Watch(missing=polls))
    d.backend.items.append(gone)
    d.poll(10.0)  # listed again: the count starts over
    assert d.run.state == FollowingUp(Step.SEND, Watch())
    d.backend.items.pop()
    for polls in range(1, MISSING_POLLS + 1):
        d.poll(10.0 + polls)
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "the task disappeared from the deployment"


def test_a_broken_task_is_given_time_then_fails() -> None:
    d = _sending()
    d.change(status="error")
    d.poll(1.0)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch(broken_since=1.0))
    d.poll(5.0)
    assert d.run.state == FollowingUp(Step.SETTLE, Watch(broken_since=1.0))
    d.poll(11.0)  # broken_after (10 s) passed
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "task status is error"


def test_a_broken_task_that_recovers_forgets_when_it_broke() -> None:
    d = _sending()
    d.change(status="error")
    d.poll(1.0)
    d.change(status="active")
    d.poll(2.0)
    assert d.run.state == FollowingUp(Step.SEND, Watch())


def test_a_failed_build_fails_the_task_at_once() -> None:
    d = _sending()
    d.change(status="error", workspace_status="failed")
    d.poll(1.0)
    assert d.run.state == Done(Outcome.FAILED)
    assert d.run.result.error == "the workspace build failed; the task cannot run"


def test_a_timeout_while_broken_names_the_status_and_waits_for_a_request_on_the_wire() -> None:
    d = _sending()
    d.change(status="unknown")
    d.poll(1.0)
    d.change(status="active")
    d.poll(2.0)
    assert d.run.state.step is Step.SEND
    assert d.ask(2.0) is not None
    d.deadline(1000.0)  # a request is on the wire: its answer decides first
    assert d.run.state == FollowingUp(Step.SEND_ASKED, Watch())
    d.answer(None, AgentBusyError(409, "busy"), 1000.0)
    d.change(status="unknown")
    d.poll(1001.0)
    d.deadline(1001.0)
    assert d.run.state == Done(Outcome.TIMEOUT)
    assert d.run.result.error == "timed out: 2 follow-up(s) not yet delivered (task status unknown)"


def test_an_agent_failing_before_all_follow_ups_fails_the_run() -> None:
    d = _sending()
    d.report("failed", second=4)
    d.poll(1.0)
    assert d.run.state == Done(Outcome.FAILED)


def test_a_waiting_run_that_lost_contact_is_unknown_not_timed_out() -> None:
    d = Driver()
    d.start(0.0)
    d.step(0.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    d.lose_contact("lost contact with the deployment")
    assert d.run.state == Done(Outcome.UNKNOWN)
    assert d.run.result.error == "lost contact with the deployment"
    d.deadline(10_000.0)  # a deadline passing later changes nothing
    assert d.run.state == Done(Outcome.UNKNOWN)
    assert d.run.result.outcome is Outcome.UNKNOWN


def test_a_wait_for_complete_ignores_idle() -> None:
    d = Driver(wait="complete")
    d.start(0.0)
    d.step(0.0)
    d.poll(1.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    d.report("complete", second=5)
    d.poll(2.0)
    assert d.run.state == Done(Outcome.OK)


@pytest.mark.parametrize("asked", [step for step in Step if step.asked])
def test_an_answer_that_changed_nothing_goes_back_to_the_step_that_asked(asked: Step) -> None:
    watch = Watch(missing=1)
    state = _state_at(asked)
    if isinstance(state, (FollowingUp, Waiting)):
        state = replace(state, watch=watch)
    back = unasked(state)
    assert back.step in TRANSITIONS[asked] and not back.step.asked
    assert back.step in {before for before, after in _edges() if after is asked}
    assert getattr(back, "watch", watch) == watch  # what the polls showed is kept


ASKED = [step for step in Step if step.asked]
STOPPABLE = [step for step in Step if step is not Step.DONE]
MISSABLE = [step for step in Step if step.watches and step is not Step.ADOPT]


def reach(step: Step) -> Driver:
    """A run driven to `step` the way an apply gets there."""
    if step.phase is Phase.DELETE:
        d = Driver(ActionKind.DELETE, existing=True)
        d.start(0.0)
    elif step.phase in (Phase.CREATE, Phase.ADOPT):
        d = Driver()
        d.start(0.0)
        if step is Step.ADOPT:
            d.backend.errors["create-before"] = ConflictError(409, "name taken")
            d.step(0.0)
    elif step.phase is Phase.RETIRE:
        d = _raced(Driver(unique=False))
    elif step.concluded and step is not Step.DONE:
        d = _finished(Driver(after="remove"))
        if step.phase is Phase.CLEAN_UP:
            assert d.step(1.0) == Read(ItemDetails())
    elif step.phase is Phase.FOLLOW_UPS:
        d = _sending()
        if step in (Step.SEND, Step.SEND_ASKED):
            d.poll(1.0)
        if step in (Step.RESUME_TO_SEND, Step.RESUME_TO_SEND_ASKED):
            d.change(status="paused")
            d.poll(1.0)
    else:
        d = Driver(ActionKind.NOOP, existing=True)
        d.start(0.0)
        if step is not Step.WAIT:
            d.change(status="paused")
            d.poll(1.0)
    if step.asked:
        assert d.ask(1.0) is not None
    assert d.run.state.step is step
    return d


@pytest.mark.parametrize("step", STOPPABLE)
def test_a_run_stopped_at_any_step_ends_at_once(step: Step) -> None:
    d = reach(step)
    d.interrupt()
    in_doubt = step in (Step.CREATE_ASKED, Step.ADOPT)
    ended = Done(Outcome.UNKNOWN if in_doubt else Outcome.INTERRUPTED)
    if step.concluded:  # its outcome was decided: it stands, a clean-up not done is unfinished
        ended = Done(Outcome.OK)
        assert d.run.result.clean_up == (UNFINISHED if step.phase is Phase.CLEAN_UP else "")
    assert d.run.state == ended
    assert d.run.result.error == ("create outcome unknown; a re-run adopts it" if in_doubt else "")
    d.deadline(10_000.0)
    d.lose_contact("lost contact")
    assert d.run.state == ended  # the first ending stands


@pytest.mark.parametrize("asked", ASKED)
def test_a_request_refused_for_the_token_leaves_the_run_where_it_asked(asked: Step) -> None:
    d = reach(asked)
    before = d.run.state
    with pytest.raises(AuthError):
        d.answer(None, AuthError(401, "unauthorized"), 2.0)
    assert d.run.state == unasked(before)
    assert not d.run.state.step.asked


@pytest.mark.parametrize("step", MISSABLE)
def test_a_poll_that_misses_the_task_only_counts(step: Step) -> None:
    d = reach(step)
    before = d.run.state
    assert isinstance(before, (FollowingUp, Waiting))
    d.backend.items.clear()
    d.poll(2.0)
    assert d.run.state == replace(before, watch=replace(before.watch, missing=1))


def test_every_transition_in_the_table_is_taken_by_a_run() -> None:
    """Every other test of this module, run again here, takes every transition of the table."""
    taken: set[tuple[Step, Step]] = set()
    RECORDING.append(taken)
    try:
        for test in _plain_tests():
            test()
        for step in STOPPABLE:
            test_a_run_stopped_at_any_step_ends_at_once(step)
        for step in ASKED:
            test_a_request_refused_for_the_token_leaves_the_run_where_it_asked(step)
        for step in MISSABLE:
            test_a_poll_that_misses_the_task_only_counts(step)
    finally:
        RECORDING.remove(taken)
    # One call to a run changes its step once at most.
    assert taken <= set(_edges()) | set(_conclusions())
    assert sorted(set(_edges()) - taken, key=str) == []


def _plain_tests() -> list[Any]:
    """The tests of this module that take no arguments, but the one that runs them."""
    this = test_every_transition_in_the_table_is_taken_by_a_run
    return [
        test
        for name, test in sorted(globals().items())
        if name.startswith("test_") and test is not this and not inspect.signature(test).parameters
    ]


# -- two applies raced to create one chat (Chats: no unique names) -----------------------------


def _raced(d: Driver) -> Driver:
    """`d` created its item, and a concurrent apply's older one is live beside it."""
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    d.backend.older_duplicate(d.backend.items[0])
    d.poll(1.0)
    assert isinstance(d.run.state, Retiring) and d.run.state.step is Step.RETIRE
    return d


def test_a_create_found_alone_by_the_first_poll_is_kept_at_no_extra_request() -> None:
    d = Driver(wait="none", unique=False)
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    assert d.run.state == Waiting(Step.WAIT, Watch())  # not done before a poll confirms it
    d.poll(1.0)
    assert d.run.state == Done(Outcome.OK) and d.backend.retired == []


def test_a_create_that_lost_a_race_is_archived_unsent_and_the_kept_one_only_watched() -> None:
    d = _raced(Driver(follow_ups=("one",), unique=False))
    (created, kept) = (t.id for t in d.backend.items)
    assert d.run.state == Retiring(d.backend.items[1])
    assert isinstance(d.step(1.0), Retired)  # archived before anything was sent to it
    assert d.backend.retired == [created] and d.backend.inputs[created] == ["Do A"]
    assert d.task_id == kept and d.run.state.step is Step.SETTLE
    assert "kept the older" in d.events[-1] and f"and archived {created}" in d.events[-1]
    d.poll(2.0)  # the kept one is idle: the run that made it sends, this one reads its logs
    assert isinstance(d.step(2.0), NotYet)
    assert d.run.state.step is Step.SETTLE and d.backend.inputs[kept] == ["Do A"]
    d.backend.inputs[kept].append("one")  # sent by the other apply's run
    d.poll(3.0)
    assert d.step(3.0) == Sent(1, already_delivered=True)
    assert d.run.result.follow_ups_sent == 0 and d.backend.inputs[kept] == ["Do A", "one"]
    d.poll(4.0)
    assert d.run.state == Done(Outcome.OK) and d.run.result.task_id == kept


def test_a_lost_create_follows_its_own_chat_beside_an_older_one_then_archives_it() -> None:
    # Chats: the create made a chat but its answer was lost, and a concurrent apply's older
    # chat is the one kept. The run takes its own (by its mark), never the other's as a sender.
    d = Driver(follow_ups=("one",), unique=False)
    d.backend.errors["create"] = UncertainOutcomeError("the response was lost")
    d.start(0.0)
    assert isinstance(d.step(0.0), UncertainOutcomeError)
    (own,) = d.backend.items
    older = d.backend.older_duplicate(own)
    d.poll(1.0)
    assert d.task_id == own.id and d.run.progress.created_id == own.id
    assert not d.run.progress.observer
    d.poll(2.0)  # as after any create: the older one is kept, this run's own set aside
    assert d.run.state == Retiring(older)
    assert isinstance(d.step(2.0), Retired)
    assert d.backend.retired == [own.id] and d.task_id == older.id
    assert d.run.progress.observer  # the older chat's follow-ups are its creator's to send


def _lost_on_its_way_beside(d: Driver, *, made_here: bool | None) -> Item:
    """`d`'s create broke off before the server made anything, and another command's chat of
    the item (`made_here`: its mark, None without one) is listed; that chat."""
    d.backend.errors["create-before"] = UncertainOutcomeError("the connection broke")
    d.start(0.0)
    assert isinstance(d.step(0.0), UncertainOutcomeError)
    data = task_json(d.want.coder_name, "Do A", display_name=d.want.display_name)
    other = as_item(Task.from_json(data))
    d.backend.items.append(other)
    d.backend.inputs[other.id] = ["Do A"]
    if made_here is not None:
        d.backend.marks[other.id] = made_here
    return other


def test_a_create_lost_on_its_way_watches_the_chat_a_concurrent_apply_made() -> None:
    # Chats: nothing was made (the connection broke first) and the item's chat is another
    # apply's. Adopting it as a sender would send its follow-up twice; the run only watches.
    d = Driver(follow_ups=("one",), unique=False)
    other = _lost_on_its_way_beside(d, made_here=False)
    d.poll(1.0)
    assert d.task_id == other.id and d.run.progress.observer
    assert "adopted the chat a concurrent apply created" in d.events[-1]
    d.poll(2.0)  # idle: the run that made it sends, this one reads its logs
    assert isinstance(d.step(2.0), NotYet) and d.backend.inputs[other.id] == ["Do A"]
    d.backend.inputs[other.id].append("one")  # sent by the other apply's run
    d.poll(3.0)
    assert d.step(3.0) == Sent(1, already_delivered=True)
    d.poll(4.0)
    assert d.run.state == Done(Outcome.OK) and d.run.result.follow_ups_sent == 0


def _lost_and_not_listed_yet(d: Driver) -> Item:
    """`d`'s create made its chat but the answer was lost, and the listing after it does not
    show the chat yet (the server stored it after the list was read); the chat."""
    d.backend.errors["create"] = UncertainOutcomeError("the response was lost")
    d.start(0.0)
    assert isinstance(d.step(0.0), UncertainOutcomeError)
    (made,) = d.backend.items
    d.backend.items.remove(made)
    return made


def test_a_lost_create_stored_late_is_kept_and_the_second_create_archived() -> None:
    # Nothing listed after the lost create, so the run created again; then the first appears,
    # older. It is this command's own: the run archives its second chat and follows the first
    # as its sender, not as a watcher of a chat no run would send to.
    d = Driver(follow_ups=("one",), unique=False)
    first = _lost_and_not_listed_yet(d)
    d.poll(1.0)
    assert d.run.state == Creating()
    assert isinstance(d.step(1.0), Created)
    second = d.task_id
    d.backend.items.insert(0, replace(first, created_at=START - timedelta(hours=1)))
    d.poll(2.0)
    assert isinstance(d.run.state, Retiring) and d.run.state.kept.id == first.id
    assert isinstance(d.step(2.0), Retired)
    assert d.backend.retired == [second] and d.task_id == first.id
    assert not d.run.progress.observer and d.run.progress.created_id == first.id
    assert f"kept the older and archived {second}" in d.events[-1]
    d.poll(3.0)  # idle: this run sends the follow-up
    assert d.step(3.0) == Sent(1, already_delivered=False)
    assert d.backend.inputs[first.id] == ["Do A", "one"]


def test_a_lost_create_stored_after_another_applys_chat_is_archived_by_its_watcher() -> None:
    # The run watches a concurrent apply's chat; its own create's chat shows up later, younger.
    # Nobody else would archive it (the other run only checks its own), so this run does.
    d = Driver(follow_ups=("one",), unique=False)
    own = _lost_and_not_listed_yet(d)
    other = replace(own, id="0-other", created_at=START - timedelta(hours=1))
    d.backend.items.append(other)
    d.backend.inputs[other.id] = ["Do A"]
    d.backend.marks[other.id] = False
    d.poll(1.0)
    assert d.task_id == other.id and d.run.progress.observer
    d.backend.items.append(own)
    d.poll(2.0)
    assert d.run.state == Retiring(other)
    assert isinstance(d.step(2.0), Retired)
    assert d.backend.retired == [own.id] and d.task_id == other.id
    assert d.run.progress.observer and d.backend.inputs[own.id] == ["Do A"]


def test_a_lost_create_with_no_mark_to_tell_is_adopted_as_before() -> None:
    # A chat without the `tasks/run` label (made by an older release): nothing tells whose
    # it is, so the run adopts it and sends, each send guarded by the history read before it.
    d = Driver(follow_ups=("one",), unique=False)
    other = _lost_on_its_way_beside(d, made_here=None)
    d.poll(1.0)
    assert d.task_id == other.id and not d.run.progress.observer
    assert d.events[-1].endswith("adopted (created, response lost)")


def test_a_lost_race_without_follow_ups_waits_on_the_kept_one_as_the_manifest_asks() -> None:
    d = _raced(Driver(unique=False))
    d.step(1.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    d.poll(2.0)
    assert d.run.state == Done(Outcome.OK) and d.task_id == d.backend.items[0].id


def test_a_lost_race_with_nothing_to_wait_for_is_done_once_archived() -> None:
    d = _raced(Driver(wait="none", unique=False))
    d.step(1.0)
    assert d.run.state == Done(Outcome.OK) and len(d.backend.retired) == 1


def test_an_archive_refused_is_tried_again_after_a_poll_interval() -> None:
    d = _raced(Driver(wait="none", unique=False))
    d.backend.errors["retire"] = ServerError(500, "boom")
    assert isinstance(d.step(1.0), ServerError)
    assert isinstance(d.run.state, Retiring) and d.run.state.step is Step.RETIRE
    assert d.step(1.5) is None  # not before the poll interval
    d.step(2.0)
    assert d.run.state == Done(Outcome.OK) and len(d.backend.retired) == 1


def test_an_archive_refused_while_coder_interrupts_is_a_step_of_the_run_not_a_wait() -> None:
    # v2.35+ refuses to archive a chat still `interrupting` (CHATS-CONTRACT 1.9, 7.2). The
    # backend tries once; the run asks again shortly, so no worker thread sleeps it out.
    d = _raced(Driver(wait="none", unique=False))
    d.backend.errors["retire"] = ConflictError(409, ARCHIVE_ACTIVE_MESSAGE)
    assert isinstance(d.step(1.0), ConflictError)
    assert d.run.state == Retiring(d.backend.items[1])
    assert d.run.not_before == 1.0 + ARCHIVE_RETRY_SECONDS  # sooner than a poll interval
    assert d.step(1.0) is None
    assert not any("cannot archive" in event for event in d.events)  # a pause, not a failure
    d.step(1.0 + ARCHIVE_RETRY_SECONDS)
    assert d.run.state == Done(Outcome.OK) and len(d.backend.retired) == 1


def test_an_older_duplicate_seen_only_by_a_later_poll_still_wins() -> None:
    # Its create began first but ended after this run's first poll listed the batch.
    d = Driver(wait="complete", unique=False)
    d.start(0.0)
    d.step(0.0)
    d.poll(1.0)
    assert d.run.state == Waiting(Step.WAIT, Watch())
    older = d.backend.older_duplicate(d.backend.items[0])
    d.poll(2.0)
    assert d.run.state == Retiring(older)
    d.step(2.0)
    assert d.run.state.step is Step.WAIT and d.task_id == older.id
    d.report("complete", second=5)
    d.poll(3.0)
    assert d.run.state == Done(Outcome.OK) and [t.id for t in d.backend.items] == [older.id]


class _StoppedAtLine(Driver):
    """A driver whose process is stopped (a signal) right after the run shows `line`."""

    def __init__(self, line: str, **options: Any) -> None:
        super().__init__(**options)
        self.line = line

    def _emit(self, event: Event) -> None:
        super()._emit(event)
        if event.text == self.line:
            raise KeyboardInterrupt


@pytest.mark.parametrize("follow_ups", [(), ("more",)], ids=["waits", "follows-up"])
def test_a_stop_right_after_the_created_line_finds_the_task_known(
    follow_ups: tuple[str, ...],
) -> None:
    # A CI job sees "created" and cancels; the report must not call that create unknown.
    run = _StoppedAtLine("created", follow_ups=follow_ups)
    run.start(0.0)
    with pytest.raises(KeyboardInterrupt):
        run.step(0.0)
    run.interrupt()
    assert run.run.result.task_id
    assert run.run.result.outcome is Outcome.INTERRUPTED
