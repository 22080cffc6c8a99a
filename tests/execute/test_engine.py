"""The executor against the simulated deployment over real HTTP, with the real client.

These drive the library directly (batch built in code), so each convergence rule is checked
without the manifest loader; the end-to-end tests in tests/e2e drive the real command.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from runner.backends.tasks import TasksBackend
from runner.batch import plan_batch, run
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.execute import Event, ExecuteSettings, Outcome
from runner.item import task_key
from runner.manifest.model import Batch, DesiredTask
from runner.plan import ActionKind, PlanOptions
from runner.preflight import PreflightError, preflight

FAST = ExecuteSettings(parallelism=4, poll_interval=0.05, idle_grace=0.1, no_state_after=1.0)


@pytest.fixture
def client(sim: Any) -> Iterator[CoderClient]:
    with CoderClient(Connection(url=sim.url, token=sim.token)) as made:
        yield made


def task(name: str, prompt: str, **kw: Any) -> DesiredTask:
    kw.setdefault("template", "claude-code")
    kw.setdefault("timeout_seconds", 30.0)
    return DesiredTask(batch="nightly", name=name, prompt=prompt, **kw)


def apply(client: CoderClient, batch: Batch, options: PlanOptions | None = None) -> Any:
    prepared = plan_batch(TasksBackend(client), batch, options)
    return prepared.plan, run(prepared, FAST)


def sent_inputs(sim: Any, client: CoderClient, name: str) -> list[str]:
    (found,) = [t for t in client.list_tasks(owner=None) if t.name.startswith(name + "-")]
    return [e.content for e in client.get_logs(found).entries if e.type == "input"]


def creates(sim: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.requests
        if r["method"] == "POST"
        and r["path"].rstrip("/").count("/") == 4
        and "/tasks/" in r["path"]
    ]


def test_create_follow_ups_then_converged(sim: Any, client: CoderClient) -> None:
    batch = Batch(
        "nightly",
        (
            task("a", "Do A [sim:work=1]", follow_ups=("then B [sim:work=1]", "then C")),
            task("b", "Do B [sim:work=1]"),
        ),
    )
    plan, report = apply(client, batch)
    assert [a.kind for a in plan.actions] == [ActionKind.CREATE, ActionKind.CREATE]
    assert [r.outcome for r in report.results] == [Outcome.OK, Outcome.OK], report.results
    assert report.results[0].follow_ups_sent == 2
    assert sent_inputs(sim, client, "a") == ["Do A [sim:work=1]", "then B [sim:work=1]", "then C"]
    again, report2 = apply(client, batch)
    assert [a.kind for a in again.actions] == [ActionKind.NOOP, ActionKind.NOOP]
    assert not again.has_changes
    assert [r.outcome for r in report2.results] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert len(creates(sim)) == 2


def test_lost_create_response_is_adopted_not_duplicated(sim: Any, client: CoderClient) -> None:
    sim.faults.add(method="POST", path=r"/tasks/[^/]+$", when="after", times=1, status=0)
    batch = Batch("nightly", (task("a", "Do A [sim:work=1]"),))
    _, report = apply(client, batch)
    (result,) = report.results
    assert result.outcome is Outcome.OK, result
    assert any("adopted" in d for d in result.done)
    assert len([t for t in client.list_tasks(owner=None) if t.name.startswith("a-")]) == 1


def test_lost_send_response_is_not_sent_twice(sim: Any, client: CoderClient) -> None:
    sim.faults.add(method="POST", path=r"/send$", when="after", times=1, status=0)
    batch = Batch("nightly", (task("a", "Do A [sim:work=1]", follow_ups=("one", "two")),))
    _, report = apply(client, batch)
    assert report.results[0].outcome is Outcome.OK, report.results[0]
    assert sent_inputs(sim, client, "a") == ["Do A [sim:work=1]", "one", "two"]


def test_wait_complete_and_failed_agents(sim: Any, client: CoderClient) -> None:
    batch = Batch(
        "nightly",
        (
            task("done", "finish [sim:work=1] [sim:complete]", wait="complete"),
            task("bad", "break [sim:work=1] [sim:fail]"),
        ),
    )
    _, report = apply(client, batch)
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes == {"done": Outcome.OK, "bad": Outcome.FAILED}
    states = {r.name: r.state for r in report.results}
    assert states == {"done": "complete", "bad": "failed"}


def test_timeout_runs_from_the_wait(sim: Any, client: CoderClient) -> None:
    batch = Batch("nightly", (task("slow", "slow [sim:work=500]", timeout_seconds=0.5),))
    _, report = apply(client, batch)
    (result,) = report.results
    assert result.outcome is Outcome.TIMEOUT
    assert "timed out" in result.error


def test_replace_waits_out_the_reserved_name(sim: Any, client: CoderClient) -> None:
    apply(client, Batch("nightly", (task("a", "Old [sim:work=1]"),)))
    batch = Batch("nightly", (task("a", "New [sim:work=1]"),))
    plan, report = apply(client, batch)
    assert [a.kind for a in plan.actions] == [ActionKind.DRIFT]
    assert report.results[0].outcome is Outcome.DRIFTED
    plan, report = apply(client, batch, PlanOptions(replace=True))
    assert [a.kind for a in plan.actions] == [ActionKind.REPLACE]
    assert report.results[0].outcome is Outcome.OK, report.results[0]
    (now,) = [t for t in client.list_tasks(owner=None) if t.name.startswith("a-")]
    assert now.initial_prompt == "New [sim:work=1]"


def test_preflight_reports_every_problem_with_its_tasks(sim: Any, client: CoderClient) -> None:
    batch = Batch(
        "nightly",
        (
            task("a", "x", template="nope"),
            task("b", "x", template="nope"),
            task("c", "x", template="docker"),
            task("d", "x", preset="Huge"),
            task("e", "x", owner="nobody-here"),
        ),
    )
    with pytest.raises(PreflightError) as caught:
        preflight(client, batch.tasks)
    problems = caught.value.problems
    assert problems["template 'nope' not found in organization 'coder'"] == ["a", "b"]
    assert any("not an AI-task template" in p and v == ["c"] for p, v in problems.items())
    assert any("preset 'Huge'" in p and v == ["d"] for p, v in problems.items())
    assert any("owner 'nobody-here'" in p and v == ["e"] for p, v in problems.items())


@pytest.mark.parametrize("prompt", ["Do A", "someone else's prompt"])
def test_create_meeting_409_adopts_only_the_batchs_own_task(
    sim: Any, client: CoderClient, prompt: str
) -> None:
    # The plan is made, then another actor creates a task of the same name before we do.
    batch = Batch("nightly", (task("a", "Do A"),))
    prepared = plan_batch(TasksBackend(client), batch)
    want = batch.tasks[0]
    client.create_task(
        owner="me",
        template_version_id=prepared.resolved[task_key(want)].version.id,
        prompt=prompt,
        name=want.coder_name,
        display_name=want.display_name,
    )
    report = run(prepared, FAST)
    (result,) = report.results
    if prompt == "Do A":
        assert result.outcome is Outcome.OK, result
        assert result.done == ("adopted (created concurrently)",)
    else:
        assert result.outcome is Outcome.FAILED
        assert "its prompt differs; not adopted" in result.error
    assert len(client.list_tasks(owner=None)) == 1


def test_preflight_resolves_each_distinct_thing_once(sim: Any, client: CoderClient) -> None:
    tasks = tuple(task(f"t{i}", "x", preset="Large", owner="bob") for i in range(6))
    before = len(sim.requests)
    resolved = preflight(client, tasks)
    paths = [r["path"] for r in sim.requests[before:]]
    assert {r.preset.name for r in resolved.values() if r.preset} == {"Large"}
    assert {r.owner.username for r in resolved.values()} == {"bob"}
    assert sum(p.endswith("/templates/claude-code") for p in paths) == 1
    assert sum(p.endswith("/presets") for p in paths) == 1
    assert sum(p.endswith("/users/bob") for p in paths) == 1
    assert sum(p == "/api/v2/templates" for p in paths) == 1  # the AI-template list, once
    assert len(paths) <= 7, paths


def test_the_engine_runs_on_the_clock_it_is_given(stepped_sim: Any) -> None:
    # One clock drives the run: each step's `now` and every pause of the stepper's loop. Given
    # the server's stepped clock, an hour's timeout passes in the pauses between polls, while
    # the agent stays busy (its work is longer), and nothing else moves the server's clock.
    sim, now = stepped_sim()
    started = now()
    with CoderClient(Connection(url=sim.url, token=sim.token)) as made:
        batch = Batch("nightly", (task("slow", "slow [sim:work=1000000]", timeout_seconds=3600.0),))
        prepared = plan_batch(TasksBackend(made), batch)
        report = run(prepared, replace(FAST, poll_interval=300.0, clock=now))
    (result,) = report.results
    assert result.outcome is Outcome.TIMEOUT and "timed out" in result.error
    assert now() - started >= 3600.0


def test_events_carry_each_result_as_it_was_keyed_by_plan_index(
    sim: Any, client: CoderClient
) -> None:
    batch = Batch(
        "nightly",
        (task("a", "Do A [sim:work=1]", follow_ups=("then B",)), task("b", "Do B")),
    )
    prepared = plan_batch(TasksBackend(client), batch)
    events: list[Event] = []
    report = run(prepared, FAST, on_event=events.append)
    assert [r.outcome for r in report.results] == [Outcome.OK, Outcome.OK], report.results
    assert {e.index for e in events} == {0, 1}
    for event in events:
        assert event.result.name == report.results[event.index].name
        # A value as it stood then: open until the final line, which closes it.
        assert (event.result.outcome is not None) is event.final, event
    sent = [e for e in events if e.index == 0 and e.text == "sent follow-up 1/1"]
    assert len(sent) == 1 and sent[0].result.done == ("created", "sent follow-up 1/1")
    assert report.results[0].done == ("created", "sent follow-up 1/1")
    assert report.results[0].details_read  # read after the run: no event held it
    assert not any(e.result.details_read for e in events)
