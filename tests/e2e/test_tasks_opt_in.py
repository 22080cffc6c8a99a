"""Tasks on v2.36 and v2.37 are what the deployment answers, not what its version says.

CHATS-CONTRACT 7.1: v2.37 serves the Tasks API only where the deployment sets
CODER_ENABLE_AI_TASKS (PR #28008; `codersdk/deployment.go` at erickirt/coder c9a1e2bc defaults it
to false, and `coderd/coderd.go` then registers no task route), v2.38 removed it (PR #28789), and
a v2.36 may go either way. The real command against the simulator: batches (`auto`, `--backend
tasks`) and the imperative commands (`auto`, `--backend`) take Tasks exactly where the task
routes answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_tasks, sim_env, write_manifest

BATCH = """\
version: 1
batch: optin
defaults:
  template: claude-code
tasks:
  - name: one
    prompt: "Do one thing [sim:work=1]"
"""
RUN = ["--yes", "--poll-interval", "50ms", "--idle-grace", "100ms"]


def one_line(result: Any, code: int) -> str:
    assert result.code == code, result.output
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    return str(line)


def task_routes(sim: Any) -> list[str]:
    return [r["path"] for r in sim.requests if "/tasks" in r["path"]]


def chat_posts(sim: Any) -> list[str]:
    return [r["path"] for r in sim.requests if r["method"] == "POST" and "/chats" in r["path"]]


def apply_header(sim: Any, tmp_path: Path) -> tuple[str, str]:
    """Apply the batch with `auto`; its manifest path and the plan header it printed."""
    path = write_manifest(tmp_path, BATCH)
    applied = run_tasks(["apply", path, *RUN], env=sim_env(sim))
    assert applied.code == 0, applied.output
    return path, applied.stdout.splitlines()[0]


def test_v2_37_with_tasks_enabled_runs_a_batch_and_lists_it_on_tasks(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.37.0", enable_ai_tasks=True)
    env = sim_env(sim)
    _, header = apply_header(sim, tmp_path)
    assert header.startswith("Batch 'optin' (1 task) on Tasks (auto: this server serves Tasks)")
    assert "against Coder v2.37.0+sim" in header
    assert chat_posts(sim) == []

    listed = run_tasks(["list", "-o", "json"], env=env)
    assert listed.code == 0, listed.output
    (task,) = json.loads(listed.stdout)
    assert task["name"].startswith("one-") and task["display_name"]
    # The deprecation notice, once: this deployment serves Tasks.
    assert listed.stderr.count("notice: Coder Tasks are deprecated from Coder v2.35") == 1
    table = run_tasks(["list"], env=env)
    assert table.stdout.splitlines()[0].split()[:2] == ["NAME", "STATUS"]


@pytest.mark.parametrize(("version", "enable_ai_tasks"), [("2.37.0", None), ("2.36.2", False)])
def test_without_tasks_auto_runs_on_chats_and_list_shows_chats(
    make_sim: Any, tmp_path: Path, version: str, enable_ai_tasks: bool | None
) -> None:
    sim = make_sim(version, enable_ai_tasks=enable_ai_tasks)
    env = sim_env(sim)
    path, header = apply_header(sim, tmp_path)
    assert header.startswith("Batch 'optin' (1 task) on Chats (auto: this server serves no Tasks)")
    assert len([p for p in chat_posts(sim) if p.endswith("/chats")]) == 1
    # The task routes were asked once, by the choice, and answered 404 "Route not found.".
    (probe,) = [r for r in sim.requests if "/tasks" in r["path"]]
    assert (probe["method"], probe["status"]) == ("GET", 404)

    listed = run_tasks(["list"], env=env)
    assert listed.code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["ID", "TITLE", "STATUS"]
    # Neither release takes `title` on create (v2.39's, CHATS-CONTRACT 7.5): the prompt names it.
    assert "  Do one thing [sim:work=1]  waiting  " in row
    assert "notice:" not in listed.stderr

    pinned = run_tasks(["plan", path, "--backend", "tasks"], env=env)
    line = one_line(pinned, 1)
    assert line == (
        f"error: this deployment (Coder v{version}) does not serve Coder Tasks "
        "(they are switched off on this server)"
    )


def test_imperative_commands_take_the_backend_asked_for(make_sim: Any, tmp_path: Path) -> None:
    """v2.34 serves both APIs: `auto` is Tasks, `--backend chats` the chats of the same user."""
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    path = write_manifest(tmp_path, BATCH)
    applied = run_tasks(["apply", path, "--backend", "chats", *RUN], env=env)
    assert applied.code == 0, applied.output

    chats = run_tasks(["list", "--backend", "chats", "-o", "json"], env=env)
    assert chats.code == 0, chats.output
    (chat,) = json.loads(chats.stdout)
    assert chat["labels"]["tasks/batch"] == "optin"
    status = run_tasks(["status", "--backend", "chats", "optin/one", "-o", "json"], env=env)
    assert status.code == 0, status.output
    assert json.loads(status.stdout)["id"] == chat["id"]
    logs = run_tasks(["logs", "optin/one", "--backend", "chats"], env=env)
    assert logs.stdout.splitlines()[0] == "user: Do one thing [sim:work=1]"

    # `auto` (and `tasks`) on a Tasks deployment: Coder's task CLI, which finds no task.
    for args in (["list"], ["list", "--backend", "tasks"]):
        tasks = run_tasks(args, env=env)
        assert (tasks.code, tasks.stdout, tasks.stderr) == (0, "", "No tasks found.\n")


def test_backend_tasks_on_v2_38_is_one_line_for_every_imperative_command(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    env = sim_env(sim)
    removed = (
        "error: this deployment (Coder v2.38.0) does not serve Coder Tasks: they were removed "
        "in Coder v2.38 (the successor is Coder Agents)"
    )
    for args in (["list"], ["status", "x"], ["logs", "x"], ["send", "x", "hi"], ["delete", "x"]):
        result = run_tasks(
            [*args, "--backend", "tasks", *(["--yes"] if args[0] == "delete" else [])], env=env
        )
        assert one_line(result, 1) == removed, args
    assert chat_posts(sim) == []
    bad = run_tasks(["list", "--backend", "both"], env=env)
    assert "'both' is not one of 'auto', 'tasks', 'chats'" in one_line(bad, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--coder-version", "2.38.0", "--enable-ai-tasks"],
            "error: --enable-ai-tasks: Coder 2.38.0 cannot serve Tasks: v2.38 removed them and "
            "CODER_ENABLE_AI_TASKS",
        ),
        (
            ["--coder-version", "2.35.1", "--disable-ai-tasks"],
            "error: --disable-ai-tasks: Coder 2.35.1 cannot switch Tasks off: only v2.36 and "
            "v2.37 can",
        ),
    ],
)
def test_sim_refuses_a_tasks_switch_the_release_lacks(args: list[str], message: str) -> None:
    assert one_line(run_tasks(["sim", *args], timeout=20), 3) == message
