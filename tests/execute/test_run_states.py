"""The task run's state machine: its transition table, and one run driven through it.

The run is driven by hand (no engine, no threads): `next_op` gives the request, the test runs it
against an in-memory backend and hands the outcome to `finish`, and `observe` gets the list a
poll would have shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from plan.helpers import ME, task_json

from runner.coder.models import Organization, Task, Template, TemplateVersion, User
from runner.coder.version import ServerInfo, server_info
from runner.errors import UncertainOutcomeError
from runner.execute.results import Event, ItemDetails, Outcome
from runner.execute.run import TRANSITIONS, Phase, RunSettings, Sent, TaskRun, transition
from runner.manifest.model import DesiredTask
from runner.plan import Action, ActionKind
from runner.preflight import ResolvedTask


def test_every_phase_leads_to_done_and_done_leads_nowhere() -> None:
    assert TRANSITIONS[Phase.DONE] == frozenset()
    for phase in Phase:
        seen, todo = {phase}, [phase]
        while todo:
            for after in TRANSITIONS[todo.pop()]:
                if after not in seen:
                    seen.add(after)
                    todo.append(after)
        assert Phase.DONE in seen or phase is Phase.DONE, phase


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (Phase.WAIT, Phase.FOLLOW_UPS),  # follow-ups are never sent after the wait began
        (Phase.FOLLOW_UPS, Phase.CREATE),
        (Phase.DONE, Phase.WAIT),
        (Phase.DELETE, Phase.WAIT),
    ],
)
def test_a_transition_outside_the_table_is_refused(current: Phase, to: Phase) -> None:
    with pytest.raises(RuntimeError, match=f"from {current.value} to {to.value}"):
        transition(current, to)


def test_a_transition_in_the_table_is_taken() -> None:
    assert transition(Phase.ADOPT, Phase.CREATE) is Phase.CREATE


class MemoryBackend:
    """Just enough of a backend for one run: a create whose response is lost, then sends."""

    def __init__(self) -> None:
        self.items: list[Task] = []
        self.inputs: dict[str, list[str]] = {}
        self.lose_next_create = True

    @property
    def kind(self) -> str:
        return "tasks"

    @property
    def server(self) -> ServerInfo:
        return server_info("v2.34.2", "https://coder.example.com")

    @property
    def can_resume(self) -> bool:
        return True

    def me(self) -> User:
        return ME

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        return {}

    def list_items(self, owner: str | None, batch: str = "") -> list[Task]:
        return list(self.items)

    def dashboard_path(self, item: Task) -> str:
        return f"/tasks/{item.owner_name}/{item.id}"

    def ownership_mark(self, item: Task) -> str | None:
        return item.display_name

    def delivered_inputs(self, item: Task) -> tuple[str, ...]:
        return tuple(self.inputs[item.id])

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Task:
        data = task_json(desired.coder_name, desired.prompt, display_name=desired.display_name)
        task = Task.from_json(data)
        self.items.append(task)
        self.inputs[task.id] = [desired.prompt]
        if self.lose_next_create:
            self.lose_next_create = False
            raise UncertainOutcomeError("the response was lost")
        return task

    def send(self, item: Task, text: str) -> None:
        self.inputs[item.id].append(text)

    def delete(self, item: Task) -> None:
        self.items.remove(item)

    def resume(self, item: Task) -> None:
        pass

    def details(self, item: Task) -> ItemDetails:
        return ItemDetails()


def _resolved() -> ResolvedTask:
    return ResolvedTask(
        ME,
        Organization("org-1", "coder"),
        Template("tpl-1", "claude-code", "org-1", "v-1"),
        TemplateVersion("v-1", "v1", "tpl-1"),
        None,
    )


def step(run: TaskRun, now: float) -> Any:
    """Run the request the run wants now and hand its outcome back; None when it wants none."""
    op = run.next_op(now)
    if op is None:
        return None
    try:
        outcome, error = op(), None
    except Exception as failed:
        outcome, error = None, failed
    run.finish(outcome, error, now)
    return outcome if error is None else error


def poll(run: TaskRun, backend: MemoryBackend, now: float) -> None:
    listed = {t.id: t for t in backend.list_items(None, "")}
    by_name = {f"{t.owner_name}/{t.name}".lower(): t for t in listed.values()}
    run.observe(listed, by_name, now)


def test_a_lost_create_is_adopted_then_follow_ups_then_the_wait() -> None:
    want = DesiredTask("nightly", "a", "Do A", "claude-code", follow_ups=("one",), wait="idle")
    resolved = _resolved()
    action = Action(ActionKind.CREATE, "a", "alice", want.coder_name, want, follow_ups=("one",))
    backend = MemoryBackend()
    events: list[Event] = []
    settings = RunSettings(idle_grace=0.0, poll_interval=1.0, no_state_after=5.0)
    run = TaskRun(action, None, resolved, settings, events.append, backend)
    phases = [run.phase]
    run.start(0.0)
    assert isinstance(step(run, 0.0), UncertainOutcomeError)
    phases.append(run.phase)
    poll(run, backend, 1.0)  # the listing finds the task the lost create made: adopted
    phases.append(run.phase)
    poll(run, backend, 2.0)  # idle (grace 0): ready for the follow-up
    assert step(run, 2.0) == Sent(1, already_delivered=False)
    phases.append(run.phase)
    # The state seen at the send is stale until the agent reports anew (or no_state_after).
    poll(run, backend, 8.0)
    phases.append(run.phase)
    assert phases == [Phase.CREATE, Phase.ADOPT, Phase.FOLLOW_UPS, Phase.WAIT, Phase.DONE]
    assert run.result.outcome is Outcome.OK
    assert run.result.done == ["adopted (created, response lost)", "sent follow-up 1/1"]
    assert backend.inputs[run.result.task_id or ""] == ["Do A", "one"]


def _create_run() -> tuple[TaskRun, MemoryBackend]:
    want = DesiredTask("nightly", "a", "Do A", "claude-code", wait="idle")
    resolved = _resolved()
    action = Action(ActionKind.CREATE, "a", "alice", want.coder_name, want)
    backend = MemoryBackend()
    settings = RunSettings(idle_grace=0.0, poll_interval=1.0, no_state_after=5.0)
    return TaskRun(action, None, resolved, settings, lambda event: None, backend), backend


def test_a_create_on_the_wire_when_stopped_is_reported_as_unknown_not_missing() -> None:
    run, _ = _create_run()
    run.start(0.0)
    assert run.next_op(0.0) is not None
    run.in_flight = True  # as the engine marks it: the request may have reached the server
    run.interrupt()
    assert run.result.outcome is Outcome.INTERRUPTED
    assert run.result.error == "create outcome unknown; a re-run adopts it"


def test_a_create_not_yet_sent_when_stopped_is_plainly_interrupted() -> None:
    run, _ = _create_run()
    run.start(0.0)
    run.interrupt()
    assert (run.result.outcome, run.result.error) == (Outcome.INTERRUPTED, "")


def test_a_waiting_run_that_lost_contact_is_unknown_not_timed_out() -> None:
    run, backend = _create_run()
    backend.lose_next_create = False
    run.start(0.0)
    step(run, 0.0)
    assert run.phase is Phase.WAIT
    run.lose_contact("lost contact with the deployment")
    assert run.result.outcome is Outcome.UNKNOWN
    assert run.result.error == "lost contact with the deployment"
    run.check_deadline(10_000.0)  # a deadline passing later changes nothing
    assert run.result.outcome is Outcome.UNKNOWN
