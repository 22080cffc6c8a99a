"""One contract for both backends: each operation of `Backend`, on the simulator over HTTP.

`TasksBackend` runs on a Tasks deployment (v2.34), `ChatsBackend` on a Chats-only one (v2.38);
every test runs on both. The backend is the one `batch.choose_backend` builds, its clients
sharing one transport as a `tasks` command's do; waits go through the real executor
(`batch.run`), which polls the server's state, so nothing here sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from runner import ownership
from runner.backends import Backend
from runner.backends.chats import LABEL_ITEM
from runner.batch import choose_backend, plan_batch, run
from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.coder.transport import ApiTransport
from runner.errors import AgentBusyError, TasksError, UncertainOutcomeError
from runner.execute import ExecuteSettings, Outcome
from runner.item import Message, task_key
from runner.manifest.model import Batch, DesiredTask
from runner.observe import observe
from runner.plan import ActionKind
from runner.readiness import wait_for_workspace, wait_until_active

BATCH = "contract"
SETTINGS = ExecuteSettings(poll_interval=0.05, idle_grace=0.1)
FOLLOW_UPS = ("Please also add unit tests.", "And docs.")
POLL = 0.02


def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll the server until `condition` holds (a state it reaches, not a time it takes)."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the deployment never got there"
        time.sleep(POLL)


class Clients:
    """`runner.choice.Clients` over one transport, as `tasks`'s global options build them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.http = ApiTransport(connection)

    def client(self) -> CoderClient:
        return CoderClient(self.connection, http=self.http)

    def chats_client(self) -> ChatsClient:
        return ChatsClient(self.connection, http=self.http)


@dataclass
class Deployment:
    sim: Any
    backend: Backend

    @property
    def chats(self) -> bool:
        return self.backend.kind == "chats"


@pytest.fixture(params=[("2.34.2", "tasks"), ("2.38.0", "chats")], ids=["tasks", "chats"])
def deployment(request: pytest.FixtureRequest, make_sim: Any) -> Iterator[Deployment]:
    version, wanted = request.param
    sim = make_sim(version)
    clients = Clients(Connection(url=sim.url, token=sim.token))
    yield Deployment(sim, choose_backend(clients, wanted))
    clients.http.close()


def desired(name: str = "auth", *, batch: str = BATCH, **fields: Any) -> DesiredTask:
    fields.setdefault("prompt", f"Work on {name} [sim:work=1]")
    return DesiredTask(batch, name, template="claude-code", **fields)


def apply(backend: Backend, *tasks: DesiredTask) -> Any:
    """Plan and run a batch of `tasks` on `backend`, as `tasks apply --yes` does."""
    batch = Batch(tasks[0].batch, tuple(tasks))
    return run(plan_batch(backend, batch), SETTINGS)


def owned(backend: Backend, batch: str = BATCH) -> list[Any]:
    """The batch's items by the observer's ownership rule, as the planner sees them."""
    found = observe(backend, Batch(batch, ()), all_visible=True, read_logs=False)
    return [o.task for o in found.owned_by(batch)]


def created(sim: Any) -> int:
    """Items the server made (a create answered 201, or made and its answer lost)."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST"
        and (r["path"] in ("/api/v2/chats", "/api/v2/tasks/admin"))
        and (r["status"] == 201 or r.get("fault") == "after")
    )


def test_resolve_then_create_is_listed_with_the_batch_marks(deployment: Deployment) -> None:
    backend = deployment.backend
    task = desired()
    resolved = backend.resolve([task])[task_key(task)]
    assert resolved.owner.username == "admin" and resolved.version_id
    item = backend.create(task, resolved)
    (listed,) = [i for i in backend.list_items(None, BATCH) if i.id == item.id]
    assert listed.name == task.coder_name
    assert ownership.owns(BATCH, listed.name, listed.display_name)
    if deployment.chats:
        # A chat has no workspace status or build of its own, and none is made up for it.
        assert (listed.workspace_status, listed.workspace_build_number) == (None, None)
    else:
        assert listed.workspace_status and listed.workspace_build_number
    assert [i.id for i in owned(backend)] == [item.id]
    assert backend.dashboard_path(item).endswith(item.id)


def test_apply_delivers_every_input_once_in_order_and_again_changes_nothing(
    deployment: Deployment,
) -> None:
    backend, sim = deployment.backend, deployment.sim
    task = desired(follow_ups=FOLLOW_UPS)
    report = apply(backend, task)
    assert [r.outcome for r in report.results] == [Outcome.OK]
    (item,) = owned(backend)
    assert backend.delivered_inputs(item).inputs == (task.prompt, *FOLLOW_UPS)
    mark = len(sim.requests)
    again = plan_batch(backend, Batch(BATCH, (task,)))
    assert [a.kind for a in again.plan.actions] == [ActionKind.NOOP]
    run(again, SETTINGS)
    assert [r["method"] for r in sim.requests[mark:] if r["method"] != "GET"] == []
    assert created(sim) == 1


def test_send_after_the_last_input_is_delivered(deployment: Deployment) -> None:
    backend = deployment.backend
    task = desired()
    apply(backend, task)
    (item,) = owned(backend)
    # A send alone (no read of what was delivered before it) checks `after` itself.
    assert backend.send(item, Message("One more thing.", task.prompt)) is True
    assert backend.delivered_inputs(item).inputs[-1] == "One more thing."


def test_a_send_alone_waits_for_the_answer_to_the_input_before_it(
    deployment: Deployment,
) -> None:
    # No read of what was delivered comes before either send: the backend checks `after`
    # within the one call (Tasks: the agent refuses input while busy; Chats: the history shows
    # no answer yet, so nothing is queued behind the unanswered input).
    backend, sim = deployment.backend, deployment.sim
    task = desired()
    apply(backend, task)
    (item,) = owned(backend)
    busy = "Take your time. [sim:work=600]"
    assert backend.send(item, Message(busy, task.prompt)) is True
    mark = len(sim.requests)
    with pytest.raises(AgentBusyError):
        backend.send(item, Message("And then this.", busy))
    accepted = [r for r in sim.requests[mark:] if r["method"] != "GET" and r["status"] < 400]
    assert accepted == []
    assert backend.delivered_inputs(item, read=True).inputs[-1] == busy


def test_delete_and_retire_take_the_item_out_of_the_list(deployment: Deployment) -> None:
    backend = deployment.backend
    first, second = desired("one"), desired("two")
    apply(backend, first, second)
    items = {i.name: i for i in owned(backend)}
    backend.delete(items[first.coder_name])
    backend.retire(items[second.coder_name])
    listed = {i.id for i in backend.list_items(None, BATCH)}
    assert not listed & {i.id for i in items.values()}
    # Retiring sets aside a duplicate: what the kept item uses (a chat's pinned workspace) stays,
    # so with no kept item it is a leftover; a task's workspace goes with the task.
    left = backend.leftovers(BATCH)
    assert [i.name for i in left] == ([second.coder_name] if deployment.chats else [])


def test_resume_where_the_server_pauses(deployment: Deployment) -> None:
    backend = deployment.backend
    task = desired()
    apply(backend, task)
    (item,) = owned(backend)
    if not backend.can_resume:
        assert deployment.chats  # a chat is never paused
        with pytest.raises(TasksError):
            backend.resume(item)
        return
    client: CoderClient = backend.client  # type: ignore[attr-defined]
    client.pause_task(item)
    paused = wait_for_workspace(client, client.get_task(item.id), "stopped", POLL)
    assert paused.status == "paused"
    backend.resume(item)
    resumed = wait_until_active(client, client.get_task(item.id), POLL)
    assert resumed.workspace_status == "running"


def test_leftovers_are_what_the_batch_made_and_no_item_uses(deployment: Deployment) -> None:
    backend, sim = deployment.backend, deployment.sim
    task = desired()
    apply(backend, task)
    if not deployment.chats:
        assert backend.leftovers(BATCH) == []  # a task's workspace goes with the task
        return
    chats: ChatsClient = backend.chats  # type: ignore[attr-defined]
    version = next(t for t in sim.directory.templates if t.name == "claude-code").versions[0]
    stray = chats.create_workspace(ownership.coder_name(BATCH, "gone"), version.id)
    chats.create_workspace("someone-elses", version.id)
    (leftover,) = backend.leftovers(BATCH)
    assert leftover.id == stray.id
    # Coder refuses a delete build while the start build runs (409): wait for it to end.
    until(lambda: chats.get_workspace(stray.id).status == "running")
    backend.delete(leftover)
    assert backend.leftovers(BATCH) == []
    assert len(owned(backend)) == 1  # the item's own chat and workspace stay


def test_a_create_whose_answer_is_lost_is_adopted_never_made_twice(
    deployment: Deployment,
) -> None:
    """`a`: a create whose answer was lost raises UncertainOutcomeError, and the next plan finds
    and adopts the item; `b`: the run's own create is lost, and the executor finds it."""
    backend, sim = deployment.backend, deployment.sim
    path = r"^/api/v2/chats$" if deployment.chats else r"^/api/v2/tasks/admin$"
    a, b = desired("a", follow_ups=FOLLOW_UPS[:1]), desired("b", follow_ups=FOLLOW_UPS[:1])
    resolved = backend.resolve([a])[task_key(a)]
    sim.faults.add(method="POST", path=path, when="after", status=0)
    with pytest.raises(UncertainOutcomeError):
        backend.create(a, resolved)
    sim.faults.add(method="POST", path=path, when="after", status=0)
    prepared = plan_batch(backend, Batch(BATCH, (a, b)))
    kinds = {action.name: action.kind for action in prepared.plan.actions}
    assert kinds["b"] is ActionKind.CREATE and kinds["a"] is not ActionKind.CREATE
    report = run(prepared, SETTINGS)
    assert [r.outcome for r in report.results] == [Outcome.OK, Outcome.OK], report
    assert [r["fault"] for r in sim.requests if r.get("fault")] == ["after", "after"]
    assert created(sim) == 2
    items = {i.name: i for i in owned(backend) if i.created_at is not None}
    assert sorted(items) == sorted([a.coder_name, b.coder_name])
    for task in (a, b):
        assert backend.delivered_inputs(items[task.coder_name]).inputs == (
            task.prompt,
            FOLLOW_UPS[0],
        )


def test_another_batchs_item_of_the_same_name_is_never_owned(deployment: Deployment) -> None:
    """On Chats also with the simulator's test-only fault that ignores the list's label filter,
    so that only the client's own checks stand between the batch and a foreign chat."""
    backend, sim = deployment.backend, deployment.sim
    theirs = desired("auth", batch="other")
    apply(backend, theirs)
    if deployment.chats:
        chats: ChatsClient = backend.chats  # type: ignore[attr-defined]
        # A chat that names the item but no batch, and one titled like the batch's item.
        chats.create_chat("Work on auth [sim:work=1]", labels={LABEL_ITEM: "auth"})
        chats.create_chat("Work on auth [sim:work=1]", title=f"{BATCH}: auth")
        assert owned(backend) == []
        sim.faults.ignore_label_filter = True
        assert len(backend.list_items(None, BATCH)) == 3  # the fault shows them all
    assert owned(backend) == []
    report = apply(backend, desired("auth"))
    assert [r.action for r in report.results] == ["create"]
    (mine,) = owned(backend)
    (other,) = owned(backend, "other")
    assert mine.id != other.id
    assert backend.delivered_inputs(other).inputs == (theirs.prompt,)  # nothing sent to theirs
    mark = len(sim.requests)
    apply(backend, desired("auth"))
    assert [r["method"] for r in sim.requests[mark:] if r["method"] != "GET"] == []
