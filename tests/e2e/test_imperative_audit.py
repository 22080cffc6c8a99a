"""The client against simulator behaviour an audit against Coder's source corrected."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, run_tasks, sim_env

POLL = ["--poll-interval", "50ms"]


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.29.0", 'queried user="ghost"'),  # 400 up to v2.31.0
        ("2.31.1", 'task "nap" not found for owner "ghost"'),  # 404 from v2.31.1
        ("2.34.2", 'task "nap" not found for owner "ghost"'),
    ],
)
def test_an_unknown_owner_is_named_in_the_error(make_sim: Any, version: str, expected: str) -> None:
    """CONTRACT 1.5: from v2.31.1 an unknown `{user}` is a 404, so on GA `owner/name` with an
    unknown owner reads as "task not found"; the message names the owner either way."""
    env = sim_env(make_sim(version))
    result = run_tasks(["status", "ghost/nap"], env=env)
    assert result.code != 0 and "Traceback" not in result.output
    assert expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def _wait_status(name: str, wanted: str, env: dict[str, str], timeout: float = 30) -> None:
    """Poll `tasks status -o json` (a real command) until the task reaches `wanted`."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        result = ok(run_tasks(["status", name, "-o", "json"], env=env))
        seen = json.loads(result.stdout)["status"]
        if seen == wanted:
            return
    raise AssertionError(f"{name} never became {wanted}; last seen {seen}")


@pytest.mark.parametrize("version", ["2.31.1", "2.34.2"])
def test_send_resumes_a_task_the_ttl_paused(
    make_sim: Any, record_reads: Path, version: str
) -> None:
    """A template TTL pauses the task (build reason `task_auto_pause`, v2.31.1+; see
    `runner/sim/directives.py`), so `tasks send` takes the client's resume path: resume, wait
    for the agent, then send (CONTRACT 3.1 and 10: send resumes a paused task)."""
    server = make_sim(version)
    env = sim_env(server)
    ok(run_tasks(["create", "--name", "nap", "Nap [sim:work=1] [sim:autopause=3]"], env=env))
    _wait_status("nap", "paused", env)
    ok(run_tasks(["send", "nap", "Wake up [sim:work=1]", *POLL], env=env, timeout=90))
    (record,) = server.store.tasks
    reasons = [b.reason for b in record.workspace.builds]
    assert reasons == ["initiator", "task_auto_pause", "task_resume"]
    resumes = [r for r in server.requests if r["path"].endswith("/resume")]
    assert [r["status"] for r in resumes] == [202]
    deadline = time.monotonic() + 30
    while True:
        logs = json.loads(ok(run_tasks(["logs", "nap", "-o", "json"], env=env)).stdout)
        if any(entry["content"] == "Wake up [sim:work=1]" for entry in logs):
            break
        assert time.monotonic() < deadline, logs
    # The `tasks` subprocesses recorded the keys they read, for the provenance check.
    reads = [json.loads(line) for line in record_reads.read_text().splitlines()]
    assert {"version": f"v{version}+sim", "key": ["status"]}.items() <= next(
        r for r in reads if r["key"] == ["status"]
    ).items()
