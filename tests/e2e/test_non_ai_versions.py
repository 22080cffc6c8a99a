"""A pinned template version that cannot run tasks: only the create can tell (CONTRACT 1.6).

Coder's filtered template list (`has-ai-task:true`) judges a template's active version only; a
pinned non-active version without a `coder_ai_task` resource is refused by the create with 400
`Template does not have a valid "coder_ai_task" resource.` (CONTRACT 1.3, step 3). The simulator
has such a version (`coder/claude-code` v0); `coder/docker` is no AI template at all. The
simulator's request log is the witness of how many creates were sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, run_tasks, sim_env

NOT_AI = 'Template does not have a valid "coder_ai_task" resource.'

BATCH = """\
version: 1
batch: pinned
defaults:
  template: claude-code
  timeout: 30s
tasks:
  - name: plain
    prompt: "Active version [sim:work=1]"
  - name: "old-{{ matrix.n }}"
    prompt: "Pinned to an older AI version {{ matrix.n }} [sim:work=1]"
    template_version: v1
    matrix:
      n: [1, 2]
  - name: "noai-{{ matrix.n }}"
    prompt: "Pinned to a version without coder_ai_task {{ matrix.n }}"
    template_version: v0
    matrix:
      n: [1, 2, 3]
  - name: "docker-{{ matrix.n }}"
    prompt: "A template that is no AI template {{ matrix.n }}"
    template: docker
    template_version: v1
    matrix:
      n: [1, 2]
"""


def creates(sim: Any, status: int) -> int:
    """Create requests (`POST …/tasks/{user}`) the simulator answered with `status`."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST"
        and r["path"].rstrip("/").count("/") == 4
        and "/tasks/" in r["path"]
        and r["status"] == status
    )


def test_apply_fails_each_non_ai_version_once_and_the_rest_converges(
    sim: Any, tmp_path: Path
) -> None:
    env = sim_env(sim)
    path = tmp_path / "pinned.tasks.yaml"
    path.write_text(BATCH)
    report = tmp_path / "results.json"
    result = run_tasks(["apply", str(path), "--yes", "--report", str(report), *FAST_WAITS], env=env)
    assert result.code == 4, result.output  # partial failure
    assert "Traceback" not in result.output
    # One create per bad version (claude-code v0, docker v1), none for the tasks sharing them.
    assert creates(sim, 400) == 2
    assert creates(sim, 201) == 3
    tasks = {t["name"]: t for t in json.loads(report.read_text())["tasks"]}
    for name in ("noai-1", "noai-2", "noai-3", "docker-1", "docker-2"):
        assert tasks[name]["outcome"] == "failed", tasks[name]
        assert NOT_AI in tasks[name]["error"]
        assert tasks[name]["id"] is None
    for name in ("plain", "old-1", "old-2"):
        assert tasks[name]["outcome"] == "ok", tasks[name]
        assert tasks[name]["status"] == "active"
    listed = run_tasks(["list", "--all", "-o", "json"], env=env)
    names = sorted(t["name"].rsplit("-", 1)[0] for t in json.loads(listed.stdout))
    assert names == ["old-1", "old-2", "plain"]
    assert result.stdout.count(f"failed: {NOT_AI}") == 5


def test_a_refused_version_is_not_retried_within_one_apply(make_sim: Any, tmp_path: Path) -> None:
    # One worker: the tasks of the bad version queue behind each other, and still only the
    # first one is sent.
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    path = tmp_path / "pinned.tasks.yaml"
    path.write_text(BATCH)
    result = run_tasks(["apply", str(path), "--yes", "--parallelism", "1", *FAST_WAITS], env=env)
    assert result.code == 4, result.output
    assert creates(sim, 400) == 2
    assert "Apply: 3 ok, 0 deleted, 0 unchanged, 5 failed, 0 timed out." in result.stdout


def test_create_shows_coders_message_in_one_line(sim: Any) -> None:
    env = sim_env(sim)
    result = run_tasks(
        ["create", "--template", "claude-code", "--template-version", "v0", "hi"], env=env
    )
    assert result.code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and NOT_AI in lines[0], result.stderr
    assert creates(sim, 400) == 1
    # The active version of the same template is an AI template: the create goes through.
    fine = run_tasks(["create", "--template", "claude-code", "hi"], env=env)
    assert fine.code == 0, fine.output
