"""An apply killed or interrupted mid-run, then run again, converges without duplicates.

The stop lands while a follow-up is on the server, its reply not yet sent (the simulator holds
it), so the stopped run cannot know whether it was delivered; the held follow-ups are then
served, and the re-run must find them delivered. The witnesses are the simulator's request log
(successful creates) and each task's logs (every follow-up exactly once, in order).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, exited, run_tasks, running_tasks, sim_env

FAST = [*FAST_WAITS, "--parallelism", "2"]
#: A task's follow-ups, on either route generation.
SEND = "/api/*/tasks/*/*/send"
EVENTS = 60.0

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
    sim.arrivals.hold("POST", SEND)
    with running_tasks(
        ["apply", str(path), "--yes", *FAST, "--report", str(report)], env=env
    ) as proc:
        assert sim.arrivals.wait("POST", SEND, timeout=EVENTS)
        if how == "kill":
            proc.kill()
            proc.wait(timeout=10)
        else:
            proc.send_signal(signal.SIGINT)
            out, err = exited(proc, timeout=20)
            assert proc.returncode == 130, err
            assert "Traceback" not in err
            # The results of the interrupted run are still shown.
            assert "interrupted" in out
            assert "Aborted" not in err and "Re-run" in err
            # The report says the run was interrupted, with the exit code the process had.
            document = json.loads(report.read_text())
            assert document["interrupted"] is True and document["exit_code"] == 130
    # The follow-ups the stopped run left on the server are delivered after all.
    assert sim.arrivals.release(timeout=EVENTS)
    rerun = run_tasks(["apply", str(path), "--yes", *FAST], env=env, timeout=120)
    assert rerun.code == 0, rerun.output
    assert "Traceback" not in rerun.output
    assert_converged(sim, env)
    final = run_tasks(["apply", str(path), "--yes", *FAST], env=env)
    assert final.code == 0 and "No changes." in final.stdout
