"""Development builds of Coder: accepted, their Tasks generation read from the routes they answer.

Coder names a build from an untagged commit `v0.0.0-devel+<sha>` (no tag at all) or
`<tag>-devel+<sha>` (`buildinfo/buildinfo.go`, v2.31.1; `IsDevVersion` looks for `-devel`). Its
numbers do not say which Tasks routes it serves, so the client probes the task list routes
(`/api/v2/tasks`, then `/api/experimental/tasks`; an unrouted path answers 404 `Route not
found.`, CONTRACT 1.5) and warns once. The simulator reports such a version with
`--coder-version v0.0.0-devel+…` (behaving as 2.34.2) or `--build-version` (any behaviour).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_tasks, sim_env

DEVEL = "v0.0.0-devel+abc123"
FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms"]


def notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "development build" in line]


def paths(sim: Any, method: str = "GET") -> list[tuple[str, int]]:
    return [(r["path"], r["status"]) for r in sim.requests if r["method"] == method]


def test_devel_build_with_ga_routes_is_used_as_ga(make_sim: Any) -> None:
    sim = make_sim(DEVEL)
    env = sim_env(sim)
    created = run_tasks(["create", "--name", "devel-ga", "Try a devel build"], env=env)
    assert created.code == 0, created.output
    assert "too old" not in created.output
    (line,) = notices(created.stderr)
    assert DEVEL in line and "/api/v2/tasks" in line and "v2.34.0" in line
    # The probe found the GA list route; every task request then used it.
    assert ("/api/v2/tasks", 200) in paths(sim)
    assert [p for p, _ in paths(sim, "POST")] == ["/api/v2/tasks/me"]
    # GA features follow: tasks by name, pause (v2.31.1+ on the GA line taken).
    paused = run_tasks(["pause", "devel-ga", "--yes"], env=env)
    assert paused.code == 0, paused.output
    assert len(notices(paused.stderr)) == 1


def test_devel_build_with_only_experimental_routes_is_used_as_v2_28(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.28.11", build_version=DEVEL)
    env = sim_env(sim)
    listed = run_tasks(["list"], env=env)
    assert listed.code == 0, listed.output
    (line,) = notices(listed.stderr)
    assert "/api/experimental/tasks" in line and "v2.28.11" in line
    assert ("/api/v2/tasks", 404) in paths(sim)
    batch = tmp_path / "devel.tasks.yaml"
    batch.write_text(
        "version: 1\nbatch: devel\ndefaults: {template: claude-code, timeout: 30s}\n"
        "tasks:\n  - name: one\n    prompt: 'Experimental only [sim:work=1]'\n"
        "    follow_ups: ['And a follow-up.']\n"
    )
    applied = run_tasks(["apply", str(batch), "--yes", *FAST], env=env)
    assert applied.code == 0, applied.output
    assert "sent follow-up 1/1" in applied.stdout
    creates = [p for p, s in paths(sim, "POST") if s == 201]
    assert creates == ["/api/experimental/tasks/admin"]
    # v2.28 has no pause; the refusal names the build as it reports itself.
    name = json.loads(run_tasks(["list", "-o", "json"], env=env).stdout)[0]["name"]
    paused = run_tasks(["pause", name, "--yes"], env=env)
    assert paused.code == 1, paused.output
    assert f"pause needs Coder v2.31.1 or later; this deployment runs Coder {DEVEL}" in (
        paused.stderr
    )


def test_tagged_devel_build_takes_its_tag_for_the_release(make_sim: Any) -> None:
    sim = make_sim("v2.30.0-devel+abc123")
    env = sim_env(sim)
    created = run_tasks(["create", "--name", "tagged", "Tagged devel"], env=env)
    assert created.code == 0, created.output
    (line,) = notices(created.stderr)
    assert "v2.30.0-devel+abc123" in line and "treated as Coder v2.30.0" in line
    paused = run_tasks(["pause", "tagged", "--yes"], env=env)
    assert paused.code == 1
    assert "pause needs Coder v2.31.1 or later" in paused.stderr


def test_devel_build_without_task_routes_is_refused_in_one_line(make_sim: Any) -> None:
    sim = make_sim("2.37.0", build_version=DEVEL)
    # `pause` (list, status, logs and create turn to Coder Agents' chats on such a server).
    result = run_tasks(["pause", "x", "--yes"], env=sim_env(sim))
    assert result.code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "development build" in lines[0] and "does not serve Coder Tasks" in lines[0]
    assert "Traceback" not in result.output


def test_release_versions_are_not_probed(make_sim: Any) -> None:
    sim = make_sim("2.34.2")
    result = run_tasks(["list"], env=sim_env(sim))
    assert result.code == 0, result.output
    assert notices(result.stderr) == []
    assert sum(1 for p, _ in paths(sim) if p == "/api/v2/tasks") == 1  # the list itself
