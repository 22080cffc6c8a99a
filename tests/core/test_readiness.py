"""`runner.readiness` on its own: the poll and retry loops every wait runs on, and the blocking
waits against the simulator, all on one clock that moves only when a wait sleeps.

The simulator and the waits share a `SteppedTime`: each sleep of a wait moves the server's time
on by exactly that much, so the agent's timeline is seen in order and nothing sleeps for real.
"""

from __future__ import annotations

from typing import Any

import pytest
from stepped_time import SteppedTime

from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.errors import ConflictError, TasksError
from runner.readiness import (
    ARCHIVE_RETRY_SECONDS,
    observations,
    retire_chat,
    retry_refused,
    wait_for_workspace,
    wait_until_active,
    wait_until_idle,
)


def test_observations_yield_the_first_then_one_fetch_per_interval() -> None:
    clock = SteppedTime(100.0)
    fetched = iter(["b", "c"])
    seen = []
    for value in observations("a", lambda: next(fetched), 2.5, clock):
        seen.append((value, clock.now))
        if value == "c":
            break
    assert seen == [("a", 100.0), ("b", 102.5), ("c", 105.0)]


def test_retry_refused_retries_only_the_refusal_and_only_within_its_patience() -> None:
    clock = SteppedTime(0.0)
    calls: list[float] = []
    ready_at = [2.0]

    def attempt() -> str:
        calls.append(clock.now)
        if clock.now < ready_at[0]:
            raise ConflictError(409, "not yet")
        return "done"

    refused = lambda error: isinstance(error, ConflictError)  # noqa: E731
    assert retry_refused(attempt, refused, patience=10.0, interval=1.0, clock=clock) == "done"
    assert calls == [0.0, 1.0, 2.0]
    calls.clear()
    ready_at[0] = clock.now + 3.0
    with pytest.raises(ConflictError):  # patience 1.5 s: the attempt past it is the last
        retry_refused(attempt, refused, patience=1.5, interval=1.0, clock=clock)
    assert [t - calls[0] for t in calls] == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError):  # anything else is raised at once
        retry_refused(lambda: int("x"), refused, patience=10.0, interval=1.0, clock=clock)


def tasks_client(sim: Any) -> CoderClient:
    return CoderClient(Connection(url=sim.url, token=sim.token))


def test_send_waits_follow_the_task_from_create_to_idle_on_the_stepped_clock(
    stepped_sim: Any,
) -> None:
    sim, now = stepped_sim("2.34.2", time_scale=1.0)
    client = tasks_client(sim)
    version = next(t for t in sim.directory.templates if t.name == "claude-code").versions[0]
    task = client.create_task(owner="me", template_version_id=version.id, prompt="Go [sim:work=30]")
    started = now.now
    active = wait_until_active(client, task, 1.0, now)
    assert active.status == "active"
    idle = wait_until_idle(client, active, 1.0, now)
    assert idle.state in ("idle", "complete")
    assert now.now > started  # time moved only by the waits' own sleeps
    client.pause_task(idle)
    assert wait_for_workspace(client, idle, "stopped", 1.0, now).status == "paused"
    with pytest.raises(TasksError, match="paused while waiting"):
        wait_until_idle(client, client.get_task(idle.id), 1.0, now)


def test_retire_waits_out_interrupting_on_the_stepped_clock(stepped_sim: Any) -> None:
    """v2.35+: an interrupted chat passes through `interrupting`, and Coder refuses to archive it
    meanwhile (CHATS-CONTRACT 7.2); the retry steps the clock until it settles."""
    sim, now = stepped_sim("2.38.0", time_scale=1.0)
    chats = ChatsClient(Connection(url=sim.url, token=sim.token))
    chat = chats.create_chat("Busy for a while [sim:work=600]")
    now.advance(5)
    assert chats.get_chat(chat.id).status == "running"
    before = now.now
    retire_chat(chats, chats.get_chat(chat.id), clock=now)
    assert chats.get_chat(chat.id).archived
    refused = [r for r in sim.requests if r["method"] == "PATCH" and r["status"] == 409]
    assert refused, "the archive was never refused while interrupting"
    assert now.now - before == pytest.approx(len(refused) * ARCHIVE_RETRY_SECONDS)
