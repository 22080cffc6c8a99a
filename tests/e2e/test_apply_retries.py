"""`retries:` end to end: an attempt that ends as `retry_on` names is tried again, and its number
is read back from the deployment, so a kill and a re-run, or two applies at once, never make an
attempt twice.

The simulated agents follow a script per turn (`[sim:turns=…]`, runner/sim/directives.py): on
Chats each chat counts its own turns; on Tasks the turns of an owner's work from one prompt
are counted across the tasks made from it, so a task created again takes up the script. The
simulator's stores are the witnesses of what was delivered and created.

Where a test kills `tasks` mid-retry, the server's time moves only when the test moves it (a
stepped clock), so the agent cannot answer the retry before the kill, however loaded the
machine.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAST_WAITS,
    ok,
    read_until,
    run_tasks,
    running_tasks,
    sim_env,
    start_tasks,
)
from conftest import write_manifest as write
from stepped_time import SteppedTime, step_per_look, until

EVENTS = 60.0
SENDS = "/api/*/chats/*/messages"
#: Server seconds per step of a stepped clock: more than any build or default turn takes at the
#: tests' time scale (runner/sim: a turn is 4 simulated seconds, 0.08 s here), less than a stall.
STEP = 1.0

FLAKY_CHAT = """\
version: 1
batch: flaky
defaults: {timeout: 60s}
tasks:
  - name: retried
    prompt: "Fix the flaky test [sim:turns=fail,ok]"
    retries: 1
  - name: once
    prompt: "Fix the other flaky test [sim:turns=fail,ok]"
  - name: twice
    prompt: "Fix the worst flaky test [sim:turns=fail,fail,ok]"
    retries: 1
  - name: followed
    prompt: "Fix the parser [sim:turns=ok,fail,fail]"
    follow_ups: [Now the docs]
    retries: 1
"""


def answered(sim: Any, method: str, suffix: str) -> int:
    """Requests of `method` whose path ends in `suffix` that the server answered with 2xx."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == method
        and r["path"].split("?")[0].endswith(suffix)
        and 200 <= r["status"] < 300
    )


def lists(sim: Any) -> int:
    """The list requests a client has made (each poll is one)."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "GET" and r["path"].split("?")[0].endswith(("/chats", "/tasks"))
    )


def chat_of(sim: Any, item: str) -> Any:
    """The item's chat (hold `sim.chats.lock`)."""
    return next(c for c in sim.chats.chats if c.labels.get("tasks/item") == item)


def user_texts(sim: Any, item: str) -> list[str]:
    with sim.chats.lock:
        chat = chat_of(sim, item)
        texts = [p["text"] for m in chat.messages if m.role == "user" for p in m.parts]
        return [t for t in texts if t] + [q.text for q in chat.queue]


def retry_messages(texts: list[str]) -> list[str]:
    return [t for t in texts if t.startswith("Attempt ")]


def report(tmp_path: Path, name: str = "results.json") -> dict[str, Any]:
    document: dict[str, Any] = json.loads((tmp_path / name).read_text())
    return {t["name"]: t for t in document["tasks"]}


def apply_args(path: str, tmp_path: Path, name: str = "results.json") -> list[str]:
    return ["apply", path, "--yes", *FAST_WAITS, "--report", str(tmp_path / name)]


def test_a_chat_that_fails_once_ends_ok_after_two_attempts(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    path = write(tmp_path, FLAKY_CHAT)

    applied = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))

    ok(applied, sim, 4)  # `once` has no retries: it fails as it always did
    tasks = report(tmp_path)
    assert (tasks["retried"]["outcome"], tasks["retried"]["attempts"]) == ("ok", 2)
    assert (tasks["once"]["outcome"], tasks["once"]["attempts"]) == ("failed", 1)
    assert tasks["once"]["error"].startswith("the agent reported failure")
    sent = retry_messages(user_texts(sim, "retried"))
    assert len(sent) == 1 and sent[0].startswith("Attempt 2 of 2: The last attempt did not")
    assert "the agent reported failure" in sent[0]  # it names what went wrong
    assert retry_messages(user_texts(sim, "once")) == []
    assert (tasks["twice"]["outcome"], tasks["twice"]["attempts"]) == ("failed", 2)
    assert len(retry_messages(user_texts(sim, "twice"))) == 1
    # Its follow-up went out (and the chat's `tasks/follow-ups` label with it), then it failed.
    assert (tasks["followed"]["outcome"], tasks["followed"]["attempts"]) == ("failed", 2)
    assert user_texts(sim, "followed")[1] == "Now the docs"
    assert "ok (2 attempts)" in applied.stdout  # the table shows attempts beyond the first

    # A re-run reads the attempt back and retries nothing: the failed one stays failed.
    again = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))
    ok(again, sim, 4)
    tasks = report(tmp_path)
    assert (tasks["retried"]["outcome"], tasks["retried"]["attempts"]) == ("unchanged", 2)
    assert (tasks["once"]["outcome"], tasks["once"]["attempts"]) == ("failed", 1)
    assert (tasks["twice"]["outcome"], tasks["twice"]["attempts"]) == ("failed", 2)
    # The label proves the follow-ups delivered, never a retry: the history is read for those.
    assert (tasks["followed"]["outcome"], tasks["followed"]["attempts"]) == ("failed", 2)
    for item in (
        "retried",
        "twice",
        "followed",
    ):  # the last attempt failed: a re-run makes no third
        assert len(retry_messages(user_texts(sim, item))) == 1


def test_retry_prompt_replaces_the_default_body(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    body = FLAKY_CHAT.replace("    retries: 1\n", "    retries: 1\n    retry_prompt: Try again\n")
    applied = run_tasks(apply_args(write(tmp_path, body), tmp_path), env=sim_env(sim))
    ok(applied, sim, 4)
    assert retry_messages(user_texts(sim, "retried")) == ["Attempt 2 of 2: Try again"]


def frozen_when(now: SteppedTime, sim: Any, frozen: Callable[[], bool]) -> Any:
    """Move the server's time one step per client poll until `frozen()` holds; checked and
    moved under the chat store's and task store's locks, so a request that makes `frozen()`
    true is stored either before the check (no step) or after the step."""

    def step() -> None:
        with sim.chats.lock, sim.store.lock:
            if not frozen():
                now.advance(STEP)

    return step_per_look(now, STEP, lambda: lists(sim), step)


@pytest.mark.parametrize("kill", ["on the server", "before it is answered", "SIGTERM"])
def test_a_kill_during_the_retry_and_a_rerun_make_two_attempts(
    stepped_sim: Any, tmp_path: Path, kill: str
) -> None:
    sim, now = stepped_sim("2.38.0")
    path = write(tmp_path, FLAKY_CHAT.split("  - name: once")[0])
    sim.arrivals.hold("POST", SENDS)  # the only message a run sends is the retry
    with running_tasks(apply_args(path, tmp_path, "killed.json"), env=sim_env(sim)) as proc:
        assert until(lambda: answered(sim, "POST", "/chats") == 1)
        now.advance(STEP)  # the first turn ends in error
        assert sim.arrivals.wait("POST", SENDS, timeout=EVENTS)
        if kill == "on the server":
            proc.kill()
            proc.wait(timeout=EVENTS)
            assert sim.arrivals.release(timeout=EVENTS)  # the server takes it, nobody hears
        else:
            assert sim.arrivals.release(timeout=EVENTS)
            read_until(proc, "sent the retry message (attempt 2)")
            proc.send_signal(signal.SIGTERM if kill == "SIGTERM" else signal.SIGKILL)
            proc.wait(timeout=EVENTS)
    if kill == "SIGTERM":  # stopped like Ctrl-C: the report says where the run was
        assert proc.returncode == 143
        stopped = report(tmp_path, "killed.json")["retried"]
        assert (stopped["outcome"], stopped["attempts"]) == ("interrupted", 2)
    # The retry is delivered, once, and the agent has not answered it (time stood still).
    assert until(lambda: answered(sim, "POST", "/messages") == 1)
    assert len(retry_messages(user_texts(sim, "retried"))) == 1
    with sim.chats.lock:
        assert chat_of(sim, "retried").messages[-1].role == "user"

    with step_per_look(now, STEP, lambda: lists(sim)):
        again = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))
    ok(again, sim, 0)
    tasks = report(tmp_path)
    assert (tasks["retried"]["outcome"], tasks["retried"]["attempts"]) == ("unchanged", 2)
    assert len(retry_messages(user_texts(sim, "retried"))) == 1
    assert answered(sim, "POST", "/messages") == 1  # the re-run sent nothing


def test_two_applies_at_once_send_one_retry_message(stepped_sim: Any, tmp_path: Path) -> None:
    sim, now = stepped_sim("2.38.0")
    path = write(
        tmp_path, FLAKY_CHAT.split("  - name: once")[0].replace("retries: 1", "retries: 0")
    )
    with step_per_look(now, STEP, lambda: lists(sim)):
        first = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))
    ok(first, sim, 1)  # the chat failed (every task did: exit 1), and was not retried
    write(tmp_path, FLAKY_CHAT.split("  - name: once")[0])  # now it may be, once

    # Both applies read the history before either retry lands: both send, and the later one,
    # queued behind the first (the agent is busy with it), is withdrawn by its run.
    sim.arrivals.hold("POST", SENDS)
    procs = [
        start_tasks(apply_args(path, tmp_path, f"r{n}.json"), env=sim_env(sim)) for n in (1, 2)
    ]
    try:
        assert sim.arrivals.wait("POST", SENDS, count=2, timeout=EVENTS)
        assert sim.arrivals.release(timeout=EVENTS)
        assert until(lambda: answered(sim, "POST", "/messages") == 2)
        assert until(lambda: withdrawn(sim) == 1)
        assert len(retry_messages(user_texts(sim, "retried"))) == 1
        with step_per_look(now, STEP, lambda: lists(sim)):
            outputs = [p.communicate(timeout=240) for p in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
        assert "Traceback" not in out + err and sim.token not in out + err
    for n in (1, 2):
        tasks = report(tmp_path, f"r{n}.json")
        assert (tasks["retried"]["outcome"], tasks["retried"]["attempts"]) == ("ok", 2)
    assert len(retry_messages(user_texts(sim, "retried"))) == 1


def withdrawn(sim: Any) -> int:
    """Queued messages a client withdrew (`DELETE …/queue/{id}`)."""
    return sum(1 for r in sim.requests if r["method"] == "DELETE" and "/queue/" in r["path"])


TASKS_HEAD = """\
version: 1
batch: tflaky
defaults: {template: claude-code, timeout: 60s, retries: 1}
tasks:
"""
UNMET = """\
  - name: unmet
    prompt: "Fix the flaky test [sim:turns=tests-fail,tests-pass]"
    expect: {message: "(?i)all tests pass"}
"""
FAILING = """\
  - name: broken
    prompt: "Fix the build [sim:turns=fail,ok]"
"""
TASKS = TASKS_HEAD + UNMET + FAILING
BROKEN = TASKS_HEAD + FAILING


def task_records(sim: Any, name: str) -> list[Any]:
    """Every task ever created under `name`'s batch name, deleted ones too."""
    with sim.store.lock:
        return [t for t in sim.store.tasks if t.name.startswith(f"{name}-")]


def inputs(sim: Any, record: Any) -> list[str]:
    with sim.store.lock:
        return [m.content for m in record.agent.messages if m.role == "user"]


def test_tasks_retry_a_follow_up_for_an_unmet_expectation_and_recreate_a_failure(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.34.2")
    path = write(tmp_path, TASKS)

    applied = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))

    ok(applied, sim, 0)
    tasks = report(tmp_path)
    assert (tasks["unmet"]["outcome"], tasks["unmet"]["attempts"]) == ("ok", 2)
    assert (tasks["broken"]["outcome"], tasks["broken"]["attempts"]) == ("ok", 2)
    # The idle task got one follow-up naming what was unmet; it was not made again.
    [unmet] = task_records(sim, "unmet")
    retried = retry_messages(inputs(sim, unmet))
    assert len(retried) == 1 and "expectation unmet: message: wanted" in retried[0]
    # The failed one was deleted and made again once, its display name saying which attempt.
    first, second = task_records(sim, "broken")
    assert first.deleted_at is not None and second.deleted_at is None
    assert (first.display_name, second.display_name) == (
        "tflaky: broken",
        "tflaky: broken #2",
    )
    assert retry_messages(inputs(sim, second)) == []  # a new task starts from its prompt

    again = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))
    ok(again, sim, 0)
    tasks = report(tmp_path)
    assert [(t["outcome"], t["attempts"]) for t in tasks.values()] == [("unchanged", 2)] * 2
    assert len(task_records(sim, "broken")) == 2


def test_a_rerun_after_a_kill_does_not_recreate_the_task_again(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, now = stepped_sim("2.34.2")
    path = write(tmp_path, BROKEN)

    def recreated() -> bool:  # called under the store's lock
        return any(t.display_name.endswith(" #2") for t in sim.store.tasks)

    args = apply_args(path, tmp_path, "killed.json")
    with frozen_when(now, sim, recreated), running_tasks(args, env=sim_env(sim)) as proc:
        assert until(lambda: len(task_records(sim, "broken")) == 2)
        proc.kill()  # the replacement exists; its time has not moved, its agent not run
    first, second = task_records(sim, "broken")
    assert first.deleted_at is not None and second.display_name == "tflaky: broken #2"
    with sim.store.lock:  # not started: the kill came before its agent ran
        assert second.agent.messages_until(sim.clock.now()) == []

    with step_per_look(now, STEP, lambda: lists(sim)):
        again = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))
    ok(again, sim, 0)
    tasks = report(tmp_path)
    assert (tasks["broken"]["outcome"], tasks["broken"]["attempts"]) == ("unchanged", 2)
    assert len(task_records(sim, "broken")) == 2  # not made a third time


TIMEOUTS = """\
version: 1
batch: slow
defaults: {template: claude-code, timeout: 5s, retries: 1, retry_on: [timeout]}
tasks:
  - name: stuck
    prompt: "Fix the slow test [sim:turns=stall,ok]"
"""


@pytest.mark.parametrize("version", ["2.34.2", "2.38.0"], ids=["tasks", "chats"])
def test_retry_on_timeout_retries_a_timed_out_task(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    sim = make_sim(version)
    path = write(tmp_path, TIMEOUTS)

    applied = run_tasks(apply_args(path, tmp_path), env=sim_env(sim))

    ok(applied, sim, 0)
    tasks = report(tmp_path)
    assert (tasks["stuck"]["outcome"], tasks["stuck"]["attempts"]) == ("ok", 2)
    assert "retry 1 of 1" in tasks["stuck"]["done"]
    if version == "2.34.2":
        assert len(task_records(sim, "stuck")) == 2  # made again
    else:
        # One retry, which interrupted the stalled turn (CHATS-CONTRACT 1.4, `interrupt`).
        assert len(retry_messages(user_texts(sim, "stuck"))) == 1
        with sim.chats.lock:
            replies = [p["text"] for m in chat_of(sim, "stuck").messages for p in m.parts]
        assert any(text.startswith("Interrupted while working on") for text in replies)


def test_timeouts_are_not_retried_unless_asked(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    body = TIMEOUTS.replace(", retry_on: [timeout]", "")
    applied = run_tasks(apply_args(write(tmp_path, body), tmp_path), env=sim_env(sim))
    ok(applied, sim, 5)
    tasks = report(tmp_path)
    assert (tasks["stuck"]["outcome"], tasks["stuck"]["attempts"]) == ("timeout", 1)
    assert retry_messages(user_texts(sim, "stuck")) == []


def test_v2_28_makes_no_task_again_without_a_display_name_to_mark_it(
    make_sim: Any, tmp_path: Path
) -> None:
    """v2.28 has no display names: a re-run could not tell a task made again from the first, so
    a failed task is left failed, saying why, rather than risk a second retry."""
    sim = make_sim("2.28.11")
    applied = run_tasks(apply_args(write(tmp_path, BROKEN), tmp_path), env=sim_env(sim))
    ok(applied, sim, 1)
    tasks = report(tmp_path)
    assert (tasks["broken"]["outcome"], tasks["broken"]["attempts"]) == ("failed", 1)
    assert "not retried: this server keeps no mark of a task's attempt" in tasks["broken"]["done"]
    assert len(task_records(sim, "broken")) == 1
