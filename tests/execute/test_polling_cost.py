"""Waiting costs the same for many tasks as for few: one list per poll, no per-task polling."""

from __future__ import annotations

import re
import time
from typing import Any

from runner.backends.tasks import TasksBackend
from runner.batch import plan_batch, run
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.execute import ExecuteSettings, Outcome
from runner.manifest.model import Batch, DesiredTask

PER_TASK_GET = re.compile(r"/tasks/[^/]+/[0-9a-f-]{36}(/logs)?$")


def wait_for(count: int, make_sim: Any) -> tuple[list[dict[str, Any]], float]:
    sim = make_sim("2.34.2")
    batch = Batch(
        "many",
        tuple(
            DesiredTask("many", f"t{i}", f"job {i} [sim:work=2]", "claude-code")
            for i in range(count)
        ),
    )
    settings = ExecuteSettings(parallelism=8, poll_interval=0.1, idle_grace=0.05)
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        prepared = plan_batch(TasksBackend(client), batch)
        before = len(sim.requests)
        started = time.monotonic()
        report = run(prepared, settings)
        elapsed = time.monotonic() - started
    assert all(r.outcome is Outcome.OK for r in report.results), report.summary()
    return sim.requests[before:], elapsed


def test_one_list_request_per_poll_whatever_the_number_of_tasks(make_sim: Any) -> None:
    for count in (3, 40):
        requests, elapsed = wait_for(count, make_sim)
        lists = [r for r in requests if r["method"] == "GET" and r["path"] == "/api/v2/tasks"]
        per_task = [r for r in requests if r["method"] == "GET" and PER_TASK_GET.search(r["path"])]
        creates = [r for r in requests if r["method"] == "POST"]
        assert len(creates) == count
        assert per_task == []
        # At most one list per poll interval (0.1 s), plus the first.
        assert len(lists) <= elapsed / 0.1 + 2, (count, len(lists), elapsed)
