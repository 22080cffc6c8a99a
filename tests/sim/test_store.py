"""The task store on a fake clock: exact moments, no HTTP, no sleeping."""

from __future__ import annotations

import random
from typing import Any

import pytest
from stepped_time import SteppedTime

from runner.sim.apierror import ApiError
from runner.sim.clock import SimClock
from runner.sim.directory import Directory
from runner.sim.tasks import TaskStore
from runner.sim.versions import SimVersion


def make_store(version: str) -> tuple[TaskStore, SteppedTime]:
    fake = SteppedTime(1_700_000_000.0)
    clock = SimClock(1.0, fake)
    rng = random.Random(5)
    store = TaskStore(SimVersion.parse(version), Directory(rng, fake.now), clock, rng)
    return store, fake


def create(store: TaskStore, prompt: str, **body: Any) -> dict[str, Any]:
    admin = store.directory.users[0]
    version = store.directory.templates[0].versions[-1]
    return store.create(admin, "me", {"template_version_id": version.id, "input": prompt, **body})


def get(store: TaskStore, task: dict[str, Any]) -> dict[str, Any]:
    return store.get(store.directory.users[0], "me", task["id"])


def test_timeline_of_a_new_task_on_v228() -> None:
    store, fake = make_store("2.28.11")
    task = create(store, "do it")
    start = fake.now
    expected = [
        (0.5, "initializing", "pending", None, None),  # job pending
        (2.0, "initializing", "starting", None, None),  # job running
        (4.2, "initializing", "running", "created", None),
        (5.0, "initializing", "running", "starting", None),
        (6.5, "initializing", "running", "ready", None),  # app initializing
        (7.5, "active", "running", "ready", "working"),
        (9.1, "active", "running", "ready", "idle"),  # the blip between steps
        (10.0, "active", "running", "ready", "working"),
        (11.4, "active", "running", "ready", "idle"),
    ]
    for offset, status, workspace, lifecycle, state in expected:
        fake.now = start + offset
        current = get(store, task)
        seen = current["current_state"]["state"] if current["current_state"] else None
        assert (
            status,
            current["workspace_status"],
            current["workspace_agent_lifecycle"],
            seen,
        ) == (
            status,
            workspace,
            lifecycle,
            state,
        ), offset


def test_send_during_the_idle_blip_is_accepted_and_interrupts_the_work() -> None:
    store, fake = make_store("2.34.2")
    admin = store.directory.users[0]
    task = create(store, "[sim:work=10] long")
    start = fake.now
    fake.now = start + 7.0 + 3.0  # active since 7 s, first step until 12 s
    with pytest.raises(ApiError) as busy:
        store.send(admin, "me", task["id"], "now?")
    assert busy.value.status == 409
    fake.now = start + 7.0 + 5.1  # the idle moment between the steps
    store.send(admin, "me", task["id"], "[sim:work=0] stop there")
    fake.now += 1
    logs = store.logs(admin, "me", task["id"])["logs"]
    assert [(e["type"], e["content"]) for e in logs] == [
        ("input", "[sim:work=10] long"),
        ("input", "[sim:work=0] stop there"),
        ("output", "I worked on: stop there. What next?"),
    ]
    fake.now += 20  # the interrupted second step never comes back
    assert get(store, task)["current_state"]["message"] == "Done: stop there"


def test_a_new_start_build_hides_an_older_state_and_a_stop_keeps_it() -> None:
    store, fake = make_store("2.28.11")
    admin = store.directory.users[0]
    task = create(store, "[sim:work=1] quick")
    fake.now += 20
    record = store.tasks[0]
    store._add_build(record, admin, "stop", "initiator")
    fake.now += 5
    stopped = get(store, task)
    assert stopped["status"] == "paused" and stopped["current_state"]["state"] == "idle"
    store._add_build(record, admin, "start", "initiator")
    restarting = get(store, task)
    assert restarting["status"] == "initializing"
    assert restarting["current_state"] is None  # v2.28 synthesises nothing


def test_delete_reserves_the_name_until_the_delete_build_ends() -> None:
    store, fake = make_store("2.34.2")
    admin = store.directory.users[0]
    task = create(store, "x", name="keep")
    fake.now += 4.5
    store.delete(admin, "me", task["id"])
    fake.now += 1.9  # the delete job takes 2 simulated seconds
    with pytest.raises(ApiError) as clash:
        create(store, "x", name="KEEP")
    assert clash.value.status == 409
    fake.now += 0.2
    assert create(store, "x", name="keep")["name"] == "keep"


def test_build_failure_and_snapshot_absent_before_pause() -> None:
    store, fake = make_store("2.34.2")
    admin = store.directory.users[0]
    task = create(store, "[sim:build-fail]")
    fake.now += 10
    assert get(store, task)["status"] == "error"
    with pytest.raises(ApiError) as refused:
        store.logs(admin, "me", task["id"])
    assert refused.value.status == 409
    assert refused.value.message == "Cannot fetch logs for task in current state."
    resumed = store.resume(admin, "me", task["id"])  # a failed start may be started again
    assert resumed["workspace_build"]["transition"] == "start"
