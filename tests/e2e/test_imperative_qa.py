"""Regressions found by using the imperative commands the way people do, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from conftest import ROOT, run_tasks, sim_env


def _wait_until_working(name: str, env: dict[str, str]) -> None:
    for _ in range(200):
        result = run_tasks(["status", name, "-o", "json"], env=env)
        task = json.loads(result.stdout)
        if task["status"] == "active" and (task.get("current_state") or {}).get("state") == (
            "working"
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never started working")


def test_watch_of_a_task_deleted_meanwhile_says_it_is_gone(sim: Any) -> None:
    env = sim_env(sim)
    assert run_tasks(["create", "--name", "watched", "work [sim:work=100000]"], env=env).code == 0
    _wait_until_working("watched", env)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner",
            "status",
            "watched",
            "--watch",
            "--watch-interval",
            "50ms",
        ],
        env={**full_env, **env, "NO_COLOR": "1"},
        cwd=str(ROOT),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watch.stdout is not None
        assert watch.stdout.readline().startswith("STATE CHANGED")
        assert run_tasks(["delete", "watched", "--yes"], env=env).code == 0
        _, stderr = watch.communicate(timeout=30)
    finally:
        watch.kill()
    assert watch.returncode == 1
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        'error: task "admin/watched" is gone (deleted while being watched?): '
        "Resource not found or you do not have access to this resource"
    ]
