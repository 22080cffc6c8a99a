"""What a newcomer meets first: the examples, the README's commands, typos, reports, output paths.

Every example is applied to completion against the simulator, and the README's imperative
snippet is run as written (parsed from README.md), so neither can drift from what works.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from conftest import ON_EVERY_API, ROOT, run_tasks, sim_env

FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms"]
EXAMPLES = sorted((ROOT / "examples").glob("*.tasks.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_applies_to_completion(make_sim: Any, example: Path, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    report = tmp_path / "report.json"
    result = run_tasks(
        ["apply", str(example), "--yes", *FAST, "--report", str(report)],
        env=sim_env(sim),
        timeout=240,
    )
    assert result.code == 0, result.output
    tasks = json.loads(report.read_text())["tasks"]
    assert tasks and all(t["outcome"] == "ok" for t in tasks), tasks
    document = json.loads(report.read_text())
    text = example.read_text()
    if "wait: complete" in text:
        # The example waits for `complete`: the simulated agents got there.
        assert any(t["state"] == "complete" for t in document["tasks"]), document["tasks"]
    if "after: stop" in text:
        # The example cleans up after finishing: its pinned workspaces were stopped.
        assert any(t.get("clean_up") == "stopped" for t in tasks), tasks
        stopped = [w for w in sim.store.workspaces if w.latest.transition == "stop"]
        assert stopped, [w.name for w in sim.store.workspaces]


def readme_imperative_snippet() -> list[str]:
    """The command lines of the README's `## Imperative commands` sh block."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Imperative commands", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "README has no sh block under Imperative commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_imperative_snippet_runs_as_written(make_sim: Any, tmp_path: Path) -> None:
    """Each line in a non-interactive shell (stdin not a terminal, as in CI), in order."""
    sim = make_sim("2.34.2")
    lines = readme_imperative_snippet()
    assert any(line.startswith("tasks pause") for line in lines)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "tasks").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m runner "$@"\n')
    (shim / "tasks").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    env.update(sim_env(sim), PATH=f"{shim}:{env['PATH']}", PYTHONPATH=str(ROOT))
    for line in lines:
        proc = subprocess.run(
            ["sh", "-c", line],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"{line}\n{proc.stdout}{proc.stderr}"
        assert "Traceback" not in proc.stderr


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = run_tasks(["aply", "batch.tasks.yaml"])
    assert result.code == 3
    assert result.stdout == ""
    assert result.stderr == "error: tasks: No such command 'aply'. Did you mean 'apply'?\n"
    unknown = run_tasks(["frobnicate"])
    assert (unknown.code, unknown.stderr) == (3, "error: tasks: No such command 'frobnicate'.\n")


QUICK = """\
version: 1
batch: friction
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: one
    prompt: "One [sim:work=3]"
  - name: two
    prompt: "Two [sim:work=3]"
  - name: three
    prompt: "Three [sim:work=3]"
"""


@ON_EVERY_API
def test_destroy_reports_as_destroy_with_post_deletion_results(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    path = tmp_path / "friction.tasks.yaml"
    path.write_text(QUICK)
    assert run_tasks(["apply", str(path), "--yes", *FAST], env=env).code == 0
    summary = tmp_path / "summary.md"
    junit = tmp_path / "junit.xml"
    report = tmp_path / "report.json"
    destroyed = run_tasks(
        ["destroy", str(path), "--yes", "--junit", str(junit), "--report", str(report)],
        env={**env, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert destroyed.code == 0, destroyed.output
    assert "Apply:" not in destroyed.stdout
    assert "Destroy: 0 ok, 3 deleted, 0 unchanged, 0 failed, 0 timed out." in destroyed.stdout
    table = destroyed.stdout.split("NAME", 1)[1].splitlines()[1:4]
    for row in table:
        # The task is gone: no status, state or message from before the delete.
        assert row.split() == [row.split()[0], "admin", "deleted", "-", "-", "deleted", "-"], row
    assert "Destroy: 0 ok, 3 deleted" in summary.read_text()
    assert "### tasks destroy:" in summary.read_text()
    assert json.loads(report.read_text())["summary"]["text"].startswith("Destroy:")
    for task in json.loads(report.read_text())["tasks"]:
        assert (task["status"], task["state"], task["message"]) == ("", "", "")
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "tasks destroy friction"


@ON_EVERY_API
def test_junit_suite_time_is_the_wall_time_of_the_run(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "friction.tasks.yaml"
    path.write_text(QUICK)
    junit = tmp_path / "junit.xml"
    started = time.monotonic()
    result = run_tasks(
        ["apply", str(path), "--yes", *FAST, "--junit", str(junit)], env=sim_env(sim)
    )
    wall = time.monotonic() - started
    assert result.code == 0, result.output
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = [float(c.get("time", "0")) for c in suite.findall("testcase")]
    suite_time = float(suite.get("time", "0"))
    # Three tasks ran side by side: the suite took about as long as the longest, not the sum.
    assert max(cases) <= suite_time <= wall
    assert suite_time < sum(cases)


@ON_EVERY_API
def test_result_table_lines_have_no_trailing_spaces(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / "friction.tasks.yaml"
    path.write_text(QUICK)
    result = run_tasks(["apply", str(path), "--yes", *FAST], env=sim_env(sim))
    assert result.code == 0, result.output
    table = result.stdout[result.stdout.index("NAME") :].splitlines()
    assert len(table) >= 4
    assert [line for line in table if line != line.rstrip()] == []


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["plan", "{manifest}", "--out", "/nonexistent/p.plan"], "--out"),
        (["apply", "{manifest}", "--yes", "--report", "/nonexistent/r.json"], "--report"),
        (["apply", "{manifest}", "--yes", "--junit", "{tmp}"], "--junit"),
    ],
)
def test_an_unwritable_output_fails_before_any_request(
    make_sim: Any, tmp_path: Path, args: list[str], flag: str
) -> None:
    sim = make_sim("2.34.2")
    path = tmp_path / "friction.tasks.yaml"
    path.write_text(QUICK)
    argv = [a.format(manifest=path, tmp=tmp_path) for a in args]
    result = run_tasks(argv, env=sim_env(sim))
    assert result.code == 3, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {flag} ")
    assert result.stderr.count("\n") == 1
    assert len(sim.request_log.entries()) == 0
