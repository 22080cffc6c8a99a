"""An apply killed or interrupted mid-run, then run again, converges without duplicates.

The witnesses are the simulator's request log (successful creates) and each task's logs
(every follow-up exactly once, in order).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import run_tasks, sim_env, start_tasks

FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms", "--parallelism", "2"]

BODY = """\
version: 1
batch: killed
defaults: {template: claude-code, timeout: 60s}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=2]"
    follow_ups: ["first [sim:work=1]", "second [sim:work=1]"]
    matrix:
      n: [1, 2, 3, 4, 5]
"""


def start_apply(path: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return start_tasks(["apply", path, "--yes", *FAST, *extra], env=env)


def read_until(
    proc: subprocess.Popen[str], marker: str, deadline: float = 30.0, *, count: int = 1
) -> str:
    """Lines of stdout until `count` of them contain `marker` (the process keeps running)."""
    seen = ""
    found = 0
    end = time.monotonic() + deadline
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            found += 1
            if found == count:
                return seen
    raise AssertionError(f"never saw {count} x {marker!r}:\n{seen}")


def assert_converged(sim: Any, env: dict[str, str]) -> None:
    listed = json.loads(run_tasks(["list", "--all", "-o", "json"], env=env).stdout)
    assert len(listed) == 5, [t["name"] for t in listed]
    creates = [r for r in sim.requests if r["method"] == "POST" and r["status"] == 201]
    assert len(creates) == 5, creates
    for task in listed:
        logs = run_tasks(["logs", task["id"], "-o", "json"], env=env)
        assert logs.code == 0, logs.output
        sent = [e["content"] for e in json.loads(logs.stdout) if e["type"] == "input"]
        assert sent == [task["initial_prompt"], "first [sim:work=1]", "second [sim:work=1]"]


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_killed_apply_rerun_converges(sim: Any, tmp_path: Path, how: str) -> None:
    env = sim_env(sim)
    path = tmp_path / "killed.tasks.yaml"
    path.write_text(BODY)
    report = tmp_path / "results.json"
    proc = start_apply(str(path), env, "--report", str(report))
    try:
        read_until(proc, "sent follow-up 1/2")
        if how == "kill":
            proc.kill()
            proc.wait(timeout=10)
        else:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
            assert proc.returncode == 130, err
            assert "Traceback" not in err
            # The results of the interrupted run are still shown.
            assert "interrupted" in out
            assert "Aborted" not in err and "Re-run" in err
            # The report says the run was interrupted, with the exit code the process had.
            document = json.loads(report.read_text())
            assert document["interrupted"] is True and document["exit_code"] == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    rerun = run_tasks(["apply", str(path), "--yes", *FAST], env=env, timeout=120)
    assert rerun.code == 0, rerun.output
    assert "Traceback" not in rerun.output
    assert_converged(sim, env)
    final = run_tasks(["apply", str(path), "--yes", *FAST], env=env)
    assert final.code == 0 and "No changes." in final.stdout
