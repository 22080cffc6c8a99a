"""Waiting costs the same for many tasks as for few: one list per poll, no per-task polling.

The simulator's time moves one step per list of the tasks (`step_per_look`), so how many lists
a wait takes depends on the agents' work and the polls alone, never on how fast the machine
runs: the tasks are made first (not waited on), then a second run waits for all of them.
"""

from __future__ import annotations

import re
from typing import Any

from stepped_time import step_per_look

from runner.backends.tasks import TasksBackend
from runner.batch import plan_batch, run
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.execute import ExecuteSettings, Outcome
from runner.manifest.model import Batch, DesiredTask

PER_TASK_GET = re.compile(r"/tasks/[^/]+/[0-9a-f-]{36}(/logs)?$")
#: Simulated seconds of work per agent, and the simulated time each list moves the clock on.
WORK = 2
STEP = 0.25


def is_list(request: dict[str, Any]) -> bool:
    return bool(request["method"] == "GET" and request["path"] == "/api/v2/tasks")


def wait_for(count: int, stepped_sim: Any) -> list[dict[str, Any]]:
    """The requests of a run that waits for `count` working agents to become idle."""
    sim, now = stepped_sim("2.34.2")

    def batch(wait: str) -> Batch:
        return Batch(
            "many",
            tuple(
                DesiredTask("many", f"t{i}", f"job {i} [sim:work={WORK}]", "claude-code", wait=wait)
                for i in range(count)
            ),
        )

    settings = ExecuteSettings(parallelism=8, poll_interval=0.02, idle_grace=0.01)
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        made = run(plan_batch(TasksBackend(client), batch("none")), settings)
        assert all(r.outcome is Outcome.OK for r in made.results), made.summary()
        before = len(sim.requests)
        lists = lambda: sum(map(is_list, sim.requests[before:]))  # noqa: E731
        with step_per_look(now, sim.clock.span(STEP), lists):
            report = run(plan_batch(TasksBackend(client), batch("idle")), settings)
    # Nothing to change, so unchanged: waited on all the same (the looks below show it).
    assert all(r.outcome is Outcome.UNCHANGED for r in report.results), report.summary()
    return sim.requests[before:]


def test_one_list_request_per_poll_whatever_the_number_of_tasks(stepped_sim: Any) -> None:
    looks = {}
    for count in (3, 40):
        requests = wait_for(count, stepped_sim)
        per_task = [r for r in requests if r["method"] == "GET" and PER_TASK_GET.search(r["path"])]
        assert per_task == []
        assert [r for r in requests if r["method"] == "POST"] == []  # made by the first run
        looks[count] = sum(map(is_list, requests))
    # The work takes WORK / STEP lists whatever the count; one poll sees all the tasks at once,
    # so forty tasks take no more polls than three (a step or two of slack: the last lists
    # before the wait ends, and the plan's own list).
    assert looks[3] >= WORK / STEP, looks
    assert looks[40] <= looks[3] + 2, looks
