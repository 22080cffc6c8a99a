"""`defaults.backend` and `--backend`: validated, carried into the plan and its header.

The real command against the simulator; the header names the API the batch runs on, read from
the backend the batch service picked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_tasks, sim_env

BODY = """\
version: 1
batch: pick
defaults:
  template: claude-code
{backend}tasks:
  - name: one
    prompt: "Do one thing [sim:work=1]"
"""


def manifest(tmp_path: Path, backend: str | None = None) -> str:
    path = tmp_path / "pick.tasks.yaml"
    line = f"  backend: {backend}\n" if backend else ""
    path.write_text(BODY.format(backend=line))
    return str(path)


def test_plan_header_says_tasks_and_why(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    auto = run_tasks(["plan", manifest(tmp_path)], env=env)
    assert auto.code == 0, auto.output
    first = auto.stdout.splitlines()[0]
    assert first.startswith("Batch 'pick' (1 task) on Tasks (auto: this server serves Tasks)")
    assert f"against Coder v2.34.2+sim at {sim.url}:" in first

    pinned = run_tasks(["plan", manifest(tmp_path, "tasks")], env=env)
    assert pinned.code == 0, pinned.output
    assert " on Tasks (backend: tasks) against Coder v2.34.2" in pinned.stdout.splitlines()[0]

    flag = run_tasks(["plan", "--backend", "tasks", manifest(tmp_path, "auto")], env=env)
    assert flag.code == 0, flag.output
    assert " on Tasks (backend: tasks) against " in flag.stdout.splitlines()[0]


def test_saved_plan_keeps_the_backend_asked_for(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    out = tmp_path / "plan.json"
    made = run_tasks(["plan", "--backend", "tasks", manifest(tmp_path), "--out", str(out)], env=env)
    assert made.code == 0, made.output
    assert json.loads(out.read_text())["backend"] == "tasks"
    again = run_tasks(["plan", str(out)], env=env)
    assert again.code == 0, again.output
    assert " on Tasks (backend: tasks) against " in again.stdout.splitlines()[0]

    auto_out = tmp_path / "auto.json"
    run_tasks(["plan", manifest(tmp_path), "--out", str(auto_out)], env=env)
    # An auto plan is written exactly as plans made before the choice existed.
    assert "backend" not in json.loads(auto_out.read_text())


def test_a_bad_backend_value_is_a_located_line_and_exit_3(tmp_path: Path) -> None:
    path = manifest(tmp_path, "chat")
    result = run_tasks(["validate", path])
    assert result.code == 3, result.output
    assert f"{path}:5:12: defaults.backend: must be one of auto, tasks, chats" in result.stderr
    assert "Traceback" not in result.output

    flag = run_tasks(["plan", "--backend", "both", manifest(tmp_path)])
    assert flag.code == 3, flag.output
    (line,) = [x for x in flag.stderr.splitlines() if x.strip()]
    assert "--backend" in line and "'both' is not one of 'auto', 'tasks', 'chats'" in line


def test_backend_is_batch_wide_not_a_task_setting(tmp_path: Path) -> None:
    path = tmp_path / "task-level.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: pick\ndefaults:\n  template: claude-code\ntasks:\n"
        "  - name: one\n    prompt: hi\n    backend: chats\n"
    )
    result = run_tasks(["validate", str(path)])
    assert result.code == 3, result.output
    assert f'{path}:8:5: tasks[0].backend: unknown key "backend"' in result.stderr


def test_destroy_and_apply_take_the_flag(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    path = manifest(tmp_path)
    applied = run_tasks(
        [
            "apply",
            "--backend",
            "tasks",
            path,
            "--yes",
            "--poll-interval",
            "50ms",
            "--idle-grace",
            "100ms",
        ],
        env=env,
    )
    assert applied.code == 0, applied.output
    assert " on Tasks (backend: tasks) against " in applied.stdout.splitlines()[0]
    destroyed = run_tasks(["destroy", "--backend", "tasks", path, "--yes"], env=env)
    assert destroyed.code == 0, destroyed.output
    assert destroyed.stdout.startswith("Batch 'pick' on Tasks (backend: tasks) against ")


PR_BATCH = """\
version: 1
batch: prs
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: auth
    prompt: "Add auth and open a pull request [sim:pr] [sim:work=1]"
  - name: notes
    prompt: "Write notes [sim:work=1]"
"""


def test_chats_plan_header_and_reports_carry_the_pull_request(
    make_sim: Any, tmp_path: Path
) -> None:
    """v2.38 serves only Chats: auto picks them; the reports name the pull request opened."""
    sim = make_sim("2.38.0")
    env = sim_env(sim)
    summary = tmp_path / "summary.md"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    path = tmp_path / "prs.tasks.yaml"
    path.write_text(PR_BATCH)
    plan = run_tasks(["plan", str(path)], env=env)
    assert plan.code == 0, plan.output
    header = plan.stdout.splitlines()[0]
    assert header.startswith("Batch 'prs' (2 tasks) on Chats (auto: this server serves no Tasks)")

    report = tmp_path / "results.json"
    junit = tmp_path / "junit.xml"
    args = ["apply", str(path), "--yes", "--poll-interval", "50ms", "--idle-grace", "100ms"]
    applied = run_tasks([*args, "--report", str(report), "--junit", str(junit)], env=env)
    assert applied.code == 0, applied.output
    assert "Traceback" not in applied.output and sim.token not in applied.output
    document = json.loads(report.read_text())
    by_name = {t["name"]: t for t in document["tasks"]}
    auth, notes = by_name["auth"], by_name["notes"]
    pull = auth["pull_request"]
    assert pull is not None and pull["url"].startswith("https://github.com/example/repo/pull/")
    assert pull["state"] == "open" and pull["title"]
    assert isinstance(pull["additions"], int) and isinstance(pull["deletions"], int)
    assert auth["last_message"].startswith("I opened pull request #")
    assert notes["pull_request"] is None and notes["last_message"]
    assert auth["link"] == f"{sim.url}/agents/{auth['id']}"
    assert document["pull_requests"] == [{"name": "auth", "owner": auth["owner"], **pull}]

    # The run ends with the pull requests opened: terminal, step summary, JUnit.
    assert "Pull requests opened by the agents (1):" in applied.stdout
    assert f"  {auth['owner']}/auth: {pull['url']} (open, " in applied.stdout
    text = summary.read_text()
    assert f"[auth]({sim.url}/agents/{auth['id']})" in text
    assert "#### Pull requests" in text and f"]({pull['url']}) open, +" in text
    assert f"pull request: {pull['url']} (open, " in junit.read_text()
