"""Regressions found by using plan, apply and destroy as teams do: the real command, the simulator.

Each test names the behaviour it pins; the simulator's request log and the command's output and
reports are the witnesses.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

from conftest import (
    FAST_WAITS,
    ON_EVERY_API,
    clean,
    run_tasks,
    running_tasks,
    sim_env,
    write_manifest,
)

#: Longest wait for the command to exit after Ctrl-C: a liveness bound far below the waits
#: (whole rate-limit windows) it must not sit out.
EXIT_TIMEOUT = 60


def test_failed_build_fails_the_task_at_once_not_at_its_timeout(sim: Any, tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: builds
defaults: {template: claude-code, timeout: 30m}
tasks:
  - {name: good, prompt: "fine [sim:work=1]"}
  - {name: broken, prompt: "never starts [sim:build-fail]"}
""",
    )
    report = tmp_path / "results.json"
    # A timeout far beyond run_tasks' own: waited on until it, the command would be killed.
    result = clean(
        run_tasks(
            ["apply", path, "--yes", *FAST_WAITS, "--report", str(report)],
            env=sim_env(sim),
            timeout=90,
        ),
        sim,
    )
    assert result.code == 4, result.output
    tasks = {t["name"]: t for t in json.loads(report.read_text())["tasks"]}
    assert tasks["good"]["outcome"] == "ok"
    assert tasks["broken"]["outcome"] == "failed"
    assert "build failed" in tasks["broken"]["error"], tasks["broken"]


@ON_EVERY_API
def test_destroy_reports_each_deletion_once_in_its_own_words(sim: Any, tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: gone
defaults: {template: claude-code, wait: none}
tasks:
  - {name: one, prompt: "one [sim:work=1]"}
  - {name: two, prompt: "two [sim:work=1]"}
""",
    )
    env = sim_env(sim)
    assert clean(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim).code == 0
    summary = tmp_path / "summary.md"
    destroyed = clean(
        run_tasks(["destroy", path, "--yes"], env={**env, "GITHUB_STEP_SUMMARY": str(summary)}),
        sim,
    )
    assert destroyed.code == 0, destroyed.output
    assert summary.read_text().startswith("### tasks destroy: `gone`"), summary.read_text()
    lines = destroyed.stdout.splitlines()
    assert lines.count("[admin/one] deleted") == 1, destroyed.stdout
    assert lines.count("[admin/two] deleted") == 1, destroyed.stdout
    assert "no longer in the manifest" not in destroyed.stdout
    again = clean(run_tasks(["destroy", path, "--yes"], env=env), sim)
    assert again.code == 0 and "Nothing to destroy" in again.stdout, again.output


def test_rerun_waits_for_unchanged_tasks_instead_of_calling_them_done(
    sim: Any, tmp_path: Path
) -> None:
    # A CI job re-run after a timeout, or after an agent failed, must not turn green just
    # because there is nothing left to create or send.
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: rerun
defaults: {template: claude-code, timeout: 30s}
tasks:
  - {name: quick, prompt: "quick [sim:work=1]"}
  - {name: slow, prompt: "slow [sim:work=5000]", timeout: 1s}
  - {name: bad, prompt: "bad [sim:work=1] [sim:fail]"}
""",
    )
    env = sim_env(sim)
    report = tmp_path / "results.json"
    args = ["apply", path, "--yes", *FAST_WAITS, "--report", str(report)]
    first = clean(run_tasks(args, env=env), sim)
    assert first.code == 4, first.output
    second = clean(run_tasks(args, env=env), sim)
    assert second.code == 4, second.output
    assert "No changes." in second.stdout  # the plan is still empty: waiting changes nothing
    outcomes = {t["name"]: t["outcome"] for t in json.loads(report.read_text())["tasks"]}
    assert outcomes == {"quick": "unchanged", "slow": "timeout", "bad": "failed"}
    creates = [r for r in sim.requests if r["method"] == "POST" and r["status"] == 201]
    assert len(creates) == 3, creates


def test_ctrl_c_while_a_request_waits_out_a_rate_limit_exits_at_once(
    make_sim: Any, tmp_path: Path
) -> None:
    # Three creates per window of 600 s (server time ten times slower): the fourth waits for
    # budget in a worker thread. Ctrl-C must not wait for that worker, nor let it create
    # afterwards. The window dwarfs the wait for the exit below, so the exit cannot have come
    # from the budget coming back, however slowly the machine runs.
    sim = make_sim("2.34.2", rate_limit=3, time_scale=10)
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: limited
defaults: {template: claude-code, wait: none}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }}"
    matrix:
      n: [1, 2, 3, 4, 5]
""",
    )
    with running_tasks(
        ["--debug", "apply", path, "--yes", "--parallelism", "1"],
        env=sim_env(sim),
        stderr=subprocess.STDOUT,  # one pipe: the debug lines cannot fill a second one
    ) as proc:
        assert proc.stdout is not None
        seen = ""
        # The fourth create waits for the rate-limit window (paced, or after a 429).
        while seen.count("] created") < 3 or not (
            "for rate-limit budget" in seen or "after 429" in seen
        ):
            line = proc.stdout.readline()
            assert line, seen
            seen += line
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError("Ctrl-C waited for a rate-limited request") from None
        out = seen + out
    assert proc.returncode == 130, out
    assert "Traceback" not in out and "interrupted" in out
    created = [r for r in sim.requests if r["method"] == "POST" and r["status"] == 201]
    assert len(created) == 3, created


def test_one_name_for_two_owners_gives_each_owner_their_task(sim: Any, tmp_path: Path) -> None:
    # The manifest allows a name once per owner; the plan must not mix the two up.
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: shared
defaults: {template: claude-code, wait: none}
tasks:
  - {name: review, owner: alice, prompt: "for alice"}
  - {name: review, owner: bob, prompt: "for bob"}
""",
    )
    env = sim_env(sim)
    plan = clean(run_tasks(["plan", path], env=env), sim)
    assert "alice/review-" in plan.stdout and "bob/review-" in plan.stdout, plan.stdout
    applied = clean(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    assert applied.code == 0, applied.output
    listed = json.loads(run_tasks(["list", "--all", "-o", "json"], env=env).stdout)
    assert {(t["owner_name"], t["initial_prompt"]) for t in listed} == {
        ("alice", "for alice"),
        ("bob", "for bob"),
    }
    again = clean(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    assert again.code == 0 and "No changes." in again.stdout, again.output
