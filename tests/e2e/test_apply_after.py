"""`after: keep | stop | remove`: clean-up once a task's outcome is final, end to end.

The real command in a subprocess against the simulator over loopback. The simulator's stores
(workspaces and their latest builds, tasks, live and archived chats) and its request log are the
witnesses: what was stopped, archived or deleted, and that a second apply writes nothing.
Clean-up on Chats follows CHATS-CONTRACT 7.4 (archiving never stops the workspace; a stop is a
workspace build `{"transition":"stop"}`; archive only from `waiting` or `error`; no chat
delete) and 1.5 (archived chats stay listable with `q=archived:true`); on Tasks, a stop is the
task's pause (CONTRACT 1, `POST …/pause`, v2.31.1+).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, Result, clean, ok, run_tasks, running_tasks, sim_env
from conftest import write_manifest as write

from runner import ownership
from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

EVENTS = 60.0
#: The workspace builds a clean-up starts (stop, delete).
BUILDS = "/api/v2/workspaces/*/builds"
CHATS = """\
version: 1
batch: tidy
defaults:
  backend: chats
  after: {after}
  timeout: 60s
tasks:
  - name: one
    template: claude-code
    prompt: "one [sim:work=1]"
  - name: two
    template: claude-code
    preset: Large
    prompt: "two [sim:work=1]"
    follow_ups: ["and more [sim:work=1]"]
  - name: free
    prompt: "no template: the agent picks its own environment [sim:work=1]"
"""
PINNED = {ownership.coder_name("tidy", "one"), ownership.coder_name("tidy", "two")}
TASKS = """\
version: 1
batch: tidy
defaults:
  template: claude-code
  after: stop
  timeout: 60s
tasks:
  - name: one
    prompt: "one [sim:work=1]"
  - name: two
    prompt: "two [sim:work=1]"
    follow_ups: ["and more [sim:work=1]"]
"""


def tasks(sim: Any, *args: str, code: int = 0) -> Result:
    return ok(run_tasks(list(args), env=sim_env(sim), timeout=120), sim, code)


def apply(sim: Any, path: str, *more: str, code: int = 0) -> Result:
    return tasks(sim, "apply", path, "--yes", *FAST_WAITS, *more, code=code)


def writes(sim: Any, since: int) -> list[tuple[str, str, int]]:
    return [
        (r["method"], r["path"], r["status"])
        for r in sim.requests[since:]
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
    ]


def chats(sim: Any, *, archived: bool) -> dict[str, str]:
    """The batch's chats, item name -> chat id."""
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    found = client.list_chats(labels={LABEL_BATCH: "tidy"}, archived=archived)
    return {c.labels[LABEL_ITEM]: c.id for c in found}


def transitions(sim: Any) -> dict[str, str]:
    """Each workspace's name -> the transition of its latest build."""
    return {w.name: w.latest.transition for w in sim.store.workspaces}


def test_after_stop_on_chats_stops_every_pinned_workspace_and_nothing_else(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    path = write(tmp_path, CHATS.format(after="stop"))
    planned = tasks(sim, "plan", path).stdout
    assert "create, then stop" in planned and "send 1 follow-up, then stop" in planned
    report = tmp_path / "report.json"
    first = apply(sim, path, "--report", str(report))
    assert "Apply: 3 ok" in first.stdout
    assert {name: transitions(sim)[name] for name in PINNED} == dict.fromkeys(PINNED, "stop")
    assert set(transitions(sim)) == PINNED  # the unpinned chat's agent made none here
    # The chats stay readable and live: stop is not remove.
    assert set(chats(sim, archived=False)) == {"one", "two", "free"}
    assert chats(sim, archived=True) == {}
    documents = {t["name"]: t for t in json.loads(report.read_text())["tasks"]}
    assert documents["one"]["clean_up"] == "stopped"
    assert documents["free"]["clean_up"] == "nothing to stop"

    mark = len(sim.requests)
    second = apply(sim, path)
    assert "3 unchanged" in second.stdout
    assert writes(sim, mark) == []
    assert "No changes" in tasks(sim, "plan", path).stdout


def test_after_stop_never_touches_a_workspace_the_batch_did_not_make(
    make_sim: Any, tmp_path: Path
) -> None:
    """A chat of the batch bound (by a person) to another workspace: nothing is stopped."""
    sim = make_sim("2.38.0")
    path = write(tmp_path, CHATS.format(after="keep"))
    apply(sim, path)
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    version = client.workspace_by_name("me", ownership.coder_name("tidy", "one"))
    assert version is not None
    other = client.create_workspace("by-hand", version.template_version_id)
    # Bound to it by a person (the dashboard's `PATCH workspace_id`, CHATS-CONTRACT 1.9, which
    # the simulator does not serve): set on the server's record.
    (chat,) = [c for c in sim.chats.chats if c.id == chats(sim, archived=False)["one"]]
    chat.workspace_id = other.id
    apply(sim, write(tmp_path, CHATS.format(after="stop")))
    assert transitions(sim)["by-hand"] == "start"
    assert transitions(sim)[ownership.coder_name("tidy", "two")] == "stop"


@pytest.mark.parametrize(
    ("version", "backend"), [("2.34.2", "chats"), ("2.38.0", "chats")], ids=["v2.34", "v2.38"]
)
def test_after_remove_on_chats_archives_them_deletes_their_workspaces_and_stays_done(
    make_sim: Any, tmp_path: Path, version: str, backend: str
) -> None:
    sim = make_sim(version)
    path = write(tmp_path, CHATS.format(after="remove"))
    first = apply(sim, path)
    assert "Apply: 3 ok" in first.stdout
    assert chats(sim, archived=False) == {}
    removed = chats(sim, archived=True)
    assert set(removed) == {"one", "two", "free"}
    assert {name: transitions(sim)[name] for name in PINNED} == dict.fromkeys(PINNED, "delete")

    mark = len(sim.requests)
    second = apply(sim, path)
    assert "3 unchanged" in second.stdout
    assert writes(sim, mark) == []
    assert chats(sim, archived=True) == removed

    # --replace creates again (and removes again); the others stay done.
    replaced = apply(sim, path, "--replace", "--target", "one")
    assert "1 ok" in replaced.stdout
    assert chats(sim, archived=False) == {}
    again = ChatsClient(Connection(url=sim.url, token=sim.token)).list_chats(
        labels={LABEL_BATCH: "tidy", LABEL_ITEM: "one"}, archived=True
    )
    assert len(again) == 2

    # A changed spec is a new task: created, then removed.
    changed = write(tmp_path, CHATS.format(after="remove").replace('"two [', '"two, again ['))
    mark = len(sim.requests)
    planned = tasks(sim, "plan", changed).stdout
    assert "create, then send 1 follow-up, then remove" in planned
    assert "which differs: prompt differs" in planned
    assert "1 ok, 0 deleted, 2 unchanged" in apply(sim, changed).stdout
    creates = [p for m, p, s in writes(sim, mark) if m == "POST" and p.endswith("/chats")]
    assert len(creates) == 1


def test_a_removed_chat_whose_agent_failed_is_done_too(make_sim: Any, tmp_path: Path) -> None:
    """A chat in `error` is archived as it is (CHATS-CONTRACT 7.2); the next apply neither
    creates it again nor waits on it (an archived chat is never listed by a poll)."""
    sim = make_sim("2.38.0")
    body = CHATS.format(after="remove").split("  - name: two")[0]
    path = write(tmp_path, body.replace("one [sim:work=1]", "one [sim:error]"))
    first = apply(sim, path, code=1)
    assert "failed" in first.stdout and "removed" in first.stdout
    assert set(chats(sim, archived=True)) == {"one"} and chats(sim, archived=False) == {}
    mark = len(sim.requests)
    second = apply(sim, path)
    assert "1 unchanged" in second.stdout and "archived" in second.stdout
    assert writes(sim, mark) == []


def test_after_stop_on_tasks_pauses_each_task_and_a_second_apply_changes_nothing(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.34.2")
    path = write(tmp_path, TASKS)
    assert "create, then send 1 follow-up, then stop" in tasks(sim, "plan", path).stdout
    first = apply(sim, path)
    assert "Apply: 2 ok" in first.stdout
    listed = json.loads(tasks(sim, "list", "-o", "json").stdout)
    assert sorted(t["status"] for t in listed) == ["paused", "paused"]
    pauses = [r for r in sim.requests if r["path"].endswith("/pause")]
    assert len(pauses) == 2 and all(r["status"] == 202 for r in pauses)

    mark = len(sim.requests)
    second = apply(sim, path)
    assert "2 unchanged" in second.stdout
    assert writes(sim, mark) == []


@pytest.mark.parametrize(
    ("version", "after", "problem"),
    [
        ("2.34.2", "remove", "after: remove needs Chats"),
        ("2.31.0", "stop", "after: stop pauses the task, which needs Coder v2.31.1 or later"),
        ("2.28.11", "stop", "after: stop pauses the task, which needs Coder v2.31.1 or later"),
    ],
)
def test_what_tasks_cannot_clean_up_is_a_located_error_before_anything_is_made(
    make_sim: Any, tmp_path: Path, version: str, after: str, problem: str
) -> None:
    sim = make_sim(version)
    path = write(tmp_path, TASKS.replace("after: stop", f"after: {after}"))
    for command in (["plan"], ["apply", "--yes"]):
        result = clean(run_tasks([*command, path], env=sim_env(sim)), sim)
        assert result.code == 3, result.output
        first = result.stderr.splitlines()[0]
        assert f"{path}:8: task 'one': {problem}" in first, result.stderr
    assert writes(sim, 0) == []


def test_after_needs_a_wait_and_a_known_value_located(make_sim: Any, tmp_path: Path) -> None:
    body = TASKS.replace('    prompt: "one [sim:work=1]"', "    prompt: one\n    wait: none")
    body = body.replace('    prompt: "two [sim:work=1]"', "    prompt: two\n    after: delete")
    result = run_tasks(["validate", write(tmp_path, body)])
    assert result.code == 3, result.output
    assert "Traceback" not in result.output
    assert ":10:11: tasks[0].wait: after: stop needs a wait" in result.output
    assert ':13:12: tasks[1].after: must be one of keep, stop, remove, not "delete"' in (
        result.output
    )


@pytest.mark.parametrize(
    ("version", "backend"), [("2.34.2", "chats"), ("2.38.0", "chats")], ids=["v2.34", "v2.38"]
)
def test_a_remove_interrupted_between_archive_and_workspace_delete_is_finished_next_time(
    make_sim: Any, tmp_path: Path, version: str, backend: str
) -> None:
    """Ctrl-C while the pinned workspace's delete build is on the server (held there, then
    dropped unanswered): the chat is archived, its workspace still running. The next apply
    sees that, creates nothing and deletes the workspace; the one after writes nothing."""
    sim = make_sim(version)
    body = CHATS.format(after="remove").split("  - name: two")[0]  # `one` alone
    path = write(tmp_path, body)
    workspace = ownership.coder_name("tidy", "one")
    sim.arrivals.clear()
    sim.arrivals.hold("POST", BUILDS)
    with running_tasks(["apply", path, "--yes", *FAST_WAITS], env=sim_env(sim)) as proc:
        assert sim.arrivals.wait("POST", BUILDS, timeout=EVENTS)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=EVENTS)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    # The held delete is dropped unanswered, as a stop before it reached Coder would leave it.
    sim.faults.add(method="POST", path=r"^/api/v2/workspaces/[^/]+/builds$", status=0)
    assert sim.arrivals.release(timeout=EVENTS)
    assert chats(sim, archived=False) == {}
    assert set(chats(sim, archived=True)) == {"one"}
    assert transitions(sim)[workspace] == "start"  # half done

    planned = tasks(sim, "plan", path).stdout
    assert "no changes, then remove" in planned and "1 to clean up" in planned
    mark = len(sim.requests)
    finished = apply(sim, path)
    assert "removed" in finished.stdout and "1 unchanged" in finished.stdout
    assert writes(sim, mark) == [("POST", f"/api/v2/workspaces/{_id(sim, workspace)}/builds", 201)]
    assert transitions(sim)[workspace] == "delete"
    mark = len(sim.requests)
    apply(sim, path)
    assert writes(sim, mark) == []


def _id(sim: Any, name: str) -> str:
    return next(w.id for w in sim.store.workspaces if w.name == name)
