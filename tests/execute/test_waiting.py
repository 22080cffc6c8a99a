"""Follow-ups wait for a settled agent: busy replies, idle blips between steps, paused tasks."""

from __future__ import annotations

from typing import Any

from stepped_time import step_per_look

from runner import batch as service
from runner.backends.tasks import TasksBackend
from runner.batch import plan_batch
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.execute import ExecuteSettings, Outcome
from runner.manifest.model import Batch, DesiredTask


def run(client: CoderClient, batch: Batch, settings: ExecuteSettings) -> Any:
    return service.run(plan_batch(TasksBackend(client), batch), settings)


def one(name: str, prompt: str, **kw: Any) -> Batch:
    kw.setdefault("timeout_seconds", 30.0)
    return Batch("waits", (DesiredTask("waits", name, prompt, "claude-code", **kw),))


def entries(client: CoderClient, prefix: str) -> list[tuple[str, str]]:
    (task,) = [t for t in client.list_tasks(owner=None) if t.name.startswith(prefix)]
    return [(e.type, e.content) for e in client.get_logs(task).entries]


def test_busy_agent_is_waited_out_not_a_failure(sim: Any) -> None:
    # A silent agent reports no state: after `no_state_after` it counts as idle (as Coder's
    # CLI does) while it is in fact still working, so the first sends meet a busy agent.
    settings = ExecuteSettings(poll_interval=0.05, idle_grace=0.05, no_state_after=0.2)
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        report = run(
            client, one("busy", "quiet [sim:silent] [sim:work=60]", follow_ups=("next",)), settings
        )
        (result,) = report.results
        assert result.outcome is Outcome.OK, result
        sends = [r["status"] for r in sim.requests if r["path"].endswith("/send")]
        busy = 409 if sim.version.minor >= 32 else 502
        assert busy in sends and sends[-1] == 204, sends
        assert sends.count(204) == 1
        inputs = [c for t, c in entries(client, "busy-") if t == "input"]
        assert inputs == ["quiet [sim:silent] [sim:work=60]", "next"]


def test_follow_up_waits_for_idle_to_hold_not_the_blip_between_steps(stepped_sim: Any) -> None:
    # The agent reports idle for 0.3 simulated seconds between its two steps. The simulator's
    # time moves 0.25 s per list of the tasks, so the executor sees that idle on one or two
    # polls (never none), a poll interval apart: far less than the grace, whatever the load.
    sim, now = stepped_sim("2.34.2")
    settings = ExecuteSettings(poll_interval=0.02, idle_grace=3)

    def lists() -> int:
        return sum(r["method"] == "GET" and r["path"] == "/api/v2/tasks" for r in sim.requests)

    with (
        CoderClient(Connection(url=sim.url, token=sim.token)) as client,
        step_per_look(now, sim.clock.span(0.25), lists),
    ):
        report = run(client, one("blip", "two steps [sim:work=2]", follow_ups=("next",)), settings)
        assert report.results[0].outcome is Outcome.OK, report.results[0]
        kinds = [t for t, _ in entries(client, "blip-")]
        # The agent's answer to the prompt came before the follow-up: it was never cut short.
        assert kinds[:3] == ["input", "output", "input"], kinds


def test_paused_task_is_resumed_before_sending(make_sim: Any) -> None:
    sim = make_sim("2.34.2")
    settings = ExecuteSettings(poll_interval=0.05, idle_grace=0.1)
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        run(client, one("nap", "start [sim:work=1]"), settings)
        (task,) = client.list_tasks(owner=None)
        client.pause_task(task)
        report = run(client, one("nap", "start [sim:work=1]", follow_ups=("wake up",)), settings)
        (result,) = report.results
        assert result.outcome is Outcome.OK, result
        assert "resumed" in result.done
        inputs = [c for t, c in entries(client, "nap-") if t == "input"]
        assert inputs == ["start [sim:work=1]", "wake up"]


def test_failed_build_ends_the_wait_as_failed(sim: Any) -> None:
    settings = ExecuteSettings(poll_interval=0.05, idle_grace=0.05, broken_after=0.3)
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        report = run(client, one("broken", "never starts [sim:build-fail]"), settings)
        (result,) = report.results
        assert result.outcome is Outcome.FAILED, result
        assert result.error == "the workspace build failed; the task cannot run"
        assert result.status == "error"


def test_rerun_takes_a_long_silent_agent_as_idle_without_waiting_again(sim: Any) -> None:
    # A re-run waits for agents that have not settled, but an agent that never reports a
    # state counts as idle once its task is older than `no_state_after`, as on the first run.
    settings = ExecuteSettings(poll_interval=0.05, idle_grace=0.05, no_state_after=1.0)
    batch = one("quiet", "quiet [sim:silent] [sim:work=1]")
    with CoderClient(Connection(url=sim.url, token=sim.token)) as client:
        first = run(client, batch, settings)
        assert first.results[0].outcome is Outcome.OK, first.results[0]
        before = len(sim.requests)
        second = run(client, batch, settings)
        assert second.results[0].outcome is Outcome.UNCHANGED, second.results[0]
        lists = [
            r
            for r in sim.requests[before:]
            if r["method"] == "GET" and r["path"].endswith("/tasks")
        ]
        assert len(lists) == 1, lists  # the observation only; nothing was waited for
