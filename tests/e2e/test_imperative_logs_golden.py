"""`tasks logs` against the simulator compared with Coder's Test_TaskLogs_Golden outputs.

The simulated agent's transcript is seeded with the goldens' two messages, as Coder's own test
seeds its fake AgentAPI; everything else (resolution, snapshots, rendering) is the real command
over HTTP. Timestamps are normalised the way the goldens are.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, run_tasks, sim_env

from runner.sim.agent import Message
from runner.sim.clock import rfc3339

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
GOLDEN_MESSAGES = (("user", "What is 1 + 1?"), ("agent", "2"))


def as_golden(result: Result) -> str:
    """Our output in the goldens' `err: `/`out: ` line format, timestamps normalised."""
    lines = []
    for prefix, stream in (("err", result.stderr), ("out", result.stdout)):
        if stream:
            lines += [f"{prefix}: {line}" for line in stream.removesuffix("\n").split("\n")]
    return TIMESTAMP.sub("====[timestamp]=====", "\n".join(lines) + "\n")


def golden(reference: Path, name: str) -> str:
    return (reference / "golden" / "head" / "Test_TaskLogs_Golden" / f"{name}.golden").read_text()


def record(server: Any, name: str) -> Any:
    return next(t for t in server.store.tasks if t.name == name)


def seed_transcript(server: Any, name: str) -> None:
    """Replace the agent's transcript with the goldens' question and answer."""
    task = record(server, name)
    now = server.clock.now()
    with server.store.lock:
        task.agent.messages = [
            Message(now - 2 + i, role, text) for i, (role, text) in enumerate(GOLDEN_MESSAGES)
        ]


def snapshot_entries(server: Any, messages: tuple[tuple[str, str], ...]) -> tuple[Any, ...]:
    now = server.clock.now()
    kinds = {"user": "input", "agent": "output"}
    return tuple(
        {"id": i, "content": text, "type": kinds[role], "time": rfc3339(now - 2 + i)}
        for i, (role, text) in enumerate(messages)
    )


def served_status(server: Any, task_id: str) -> str:
    """The task's status as the deployment serves it (`GET /api/v2/tasks/me/<id>`)."""
    request = urllib.request.Request(
        f"{server.url}/api/v2/tasks/me/{task_id}", headers={"Coder-Session-Token": server.token}
    )
    with urllib.request.urlopen(request) as response:
        return str(json.loads(response.read())["status"])


def create_idle(server: Any, name: str) -> dict[str, str]:
    env = sim_env(server)
    assert run_tasks(["create", "--name", name, "Warm up [sim:work=0]"], env=env).code == 0
    assert run_tasks(["status", name, "--watch", "--watch-interval", "50ms"], env=env).code == 0
    return env


def test_live_logs_by_id_and_name(sim: Any, reference: Path) -> None:
    env = create_idle(sim, "golden")
    seed_transcript(sim, "golden")
    task_id = record(sim, "golden").id
    assert as_golden(run_tasks(["logs", task_id], env=env)) == golden(reference, "ByTaskID_Table")
    by_id = run_tasks(["logs", task_id, "-o", "json"], env=env)
    assert as_golden(by_id) == golden(reference, "ByTaskID_JSON")
    by_name = run_tasks(["logs", "golden", "--output", "json"], env=env)
    assert as_golden(by_name) == golden(reference, "ByTaskName_JSON")


def test_paused_task_snapshots(make_sim: Any, reference: Path) -> None:
    server = make_sim("2.34.2")
    env = create_idle(server, "snap")
    seed_transcript(server, "snap")
    pause = run_tasks(["pause", "snap", "--yes", "--poll-interval", "50ms"], env=env)
    assert pause.code == 0, pause.output
    assert as_golden(run_tasks(["logs", "snap"], env=env)) == golden(
        reference, "SnapshotWithLogs_Table"
    )
    assert as_golden(run_tasks(["logs", "snap", "-o", "json"], env=env)) == golden(
        reference, "SnapshotWithLogs_JSON"
    )

    task = record(server, "snap")
    with server.store.lock:
        task.snapshot = ((), server.clock.now())
    assert as_golden(run_tasks(["logs", "snap"], env=env)) == golden(reference, "SnapshotEmptyLogs")

    with server.store.lock:
        task.snapshot = None
    assert as_golden(run_tasks(["logs", "snap"], env=env)) == golden(
        reference, "SnapshotWithoutLogs_NoSnapshotCaptured"
    )


def test_pending_task_snapshot(make_sim: Any, reference: Path) -> None:
    # Slow server time: the start job stays queued (status `pending`) for several seconds.
    server = make_sim("2.34.2", time_scale=5.0)
    env = sim_env(server)
    assert run_tasks(["create", "--name", "queued", "Later"], env=env).code == 0
    task = record(server, "queued")
    with server.store.lock:
        task.snapshot = (
            snapshot_entries(server, (("user", "Single message"),)),
            server.clock.now(),
        )
    assert as_golden(run_tasks(["logs", "queued"], env=env)) == golden(
        reference, "SnapshotWithSingleMessage"
    )


def test_initializing_task_snapshot(stepped_sim: Any, reference: Path) -> None:
    # Server time moves only here: the task stays initializing while `tasks logs` runs.
    server, now = stepped_sim("2.34.2")
    env = sim_env(server)
    assert run_tasks(["create", "--name", "booting", "Soon"], env=env).code == 0
    task = record(server, "booting")
    for _ in range(1000):
        if served_status(server, task.id) == "initializing":
            break
        now.advance(server.clock.span(0.1))
    else:
        pytest.fail("the task never reported initializing")
    with server.store.lock:
        task.snapshot = (snapshot_entries(server, GOLDEN_MESSAGES), server.clock.now())
    assert as_golden(run_tasks(["logs", "booting"], env=env)) == golden(
        reference, "InitializingTaskSnapshot"
    )
