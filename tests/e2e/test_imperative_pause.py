"""pause, resume, confirmation prompts, and send resuming a paused task (v2.31.1+)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from typing import Any

from conftest import Result, run_tasks, sim_env, start_tasks

POLL = ["--poll-interval", "50ms"]


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def run_in_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run `tasks` with a pseudo-terminal as stdin, answer its prompt, return (code, stdout)."""
    leader, follower = pty.openpty()
    proc = start_tasks(args, env=env, stdin=follower, stderr=subprocess.STDOUT, text=False)
    os.close(follower)
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 20
    while b"(yes/no) " not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    os.write(leader, answer.encode() + b"\n")
    rest, _ = proc.communicate(timeout=30)
    os.close(leader)
    return proc.returncode, (seen + rest).decode()


def test_delete_prompt_needs_yes_on_a_terminal_and_refuses_without_one(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "p1", "x [sim:work=0]"], env=env))
    ok(run_tasks(["create", "--name", "p2", "y [sim:work=0]"], env=env))

    refused = run_tasks(["delete", "p1", "p2"], env=env)
    assert refused.code == 3 and "--yes" in refused.stderr
    assert "Delete these tasks: admin/p1, admin/p2?" in refused.stderr

    code, out = run_in_terminal(["delete", "p1", "p2"], env, "no")
    assert code == 1, out
    assert out.startswith("> Delete these tasks: admin/p1, admin/p2? (yes/no) ")
    assert 'got "no": canceled' in out
    assert not [r for r in sim.requests if r["method"] == "DELETE"]

    code, out = run_in_terminal(["rm", "p1", "p2"], env, "yes")
    assert code == 0, out
    assert re.search(r"Deleted task admin/p1 at .*\nDeleted task admin/p2 at ", out)
    assert len([r for r in sim.requests if r["method"] == "DELETE"]) == 2


def test_pause_and_resume_before_v2_31_1_is_a_plain_error(make_sim: Any) -> None:
    server = make_sim("2.28.11")
    env = sim_env(server)
    ok(run_tasks(["create", "--name", "old", "x [sim:work=0]"], env=env))
    for args in (["pause", "old", "--yes"], ["resume", "old", "--yes"]):
        result = run_tasks(args, env=env)
        assert result.code == 1
        assert result.stderr.count("\n") == 1 and "v2.31.1" in result.stderr


def paused_task(make_sim: Any, name: str) -> dict[str, str]:
    """A v2.34 deployment with one idle task `name` that has just been paused."""
    env = sim_env(make_sim("2.34.2"))
    ok(run_tasks(["create", "--name", name, "Start [sim:work=0]"], env=env))
    ok(run_tasks(["status", name, "--watch", "--watch-interval", "50ms"], env=env))
    paused = ok(run_tasks(["pause", name, "--yes", *POLL], env=env))
    assert re.fullmatch(rf"\nThe {name} task has been paused at .{{15}}!\n", paused.stdout)
    return env


def test_pause_and_resume(make_sim: Any) -> None:
    env = paused_task(make_sim, "nap")
    listed = json.loads(ok(run_tasks(["list", "--status", "paused", "-o", "json"], env=env)).stdout)
    assert [t["name"] for t in listed] == ["nap"]

    # A stopped workspace ends a watch before the first poll: one header, one row.
    watch = ok(run_tasks(["status", "nap", "--watch", "-c", "status"], env=env))
    assert watch.stdout == "STATUS  \npaused  \n"

    again = run_tasks(["pause", "nap", "--yes", *POLL], env=env)
    assert again.code == 1 and 'task "admin/nap" is already paused' in again.stderr

    refused = run_tasks(["resume", "nap"], env=env)
    assert refused.code == 3 and "Resume task admin/nap?" in refused.stderr

    resumed = ok(run_tasks(["resume", "nap", "--yes", *POLL], env=env))
    assert resumed.stdout == "\nThe admin/nap task has been resumed.\n"

    not_paused = run_tasks(["resume", "nap", "--yes", *POLL], env=env)
    assert not_paused.code == 1
    assert 'task "admin/nap" cannot be resumed (current status: ' in not_paused.stderr


def test_pause_asks_first_and_resume_can_return_at_once(make_sim: Any) -> None:
    env = sim_env(make_sim("2.34.2"))
    ok(run_tasks(["create", "--name", "bg", "Start [sim:work=0]"], env=env))
    refused = run_tasks(["pause", "bg"], env=env)
    assert refused.code == 3 and "Pause task admin/bg?" in refused.stderr
    ok(run_tasks(["status", "bg", "--watch", "--watch-interval", "50ms"], env=env))
    ok(run_tasks(["pause", "bg", "--yes", *POLL], env=env))
    background = ok(run_tasks(["resume", "bg", "--yes", "--no-wait"], env=env))
    assert background.stdout == 'Resuming task "admin/bg" in the background.\n'


def test_send_resumes_a_paused_task(make_sim: Any) -> None:
    env = paused_task(make_sim, "wake")
    ok(run_tasks(["send", "wake", "After the nap [sim:work=0]", *POLL], env=env))
    logs = json.loads(ok(run_tasks(["logs", "wake", "-o", "json"], env=env)).stdout)
    assert "After the nap [sim:work=0]" in [e["content"] for e in logs]


def test_pause_and_resume_on_servers_before_2_31_1_say_so_in_one_line(make_sim: Any) -> None:
    server = make_sim("2.31.0")
    env = sim_env(server)
    ok(run_tasks(["create", "--name", "old", "Work [sim:work=1]"], env=env))
    for command in (["pause", "old", "--yes"], ["resume", "old", "--yes"]):
        result = run_tasks(command, env=env)
        assert result.code == 1, result.output
        assert result.stdout == ""
        assert result.stderr == (
            f"error: {command[0]} needs Coder v2.31.1 or later; "
            "this deployment runs Coder v2.31.0\n"
        )
    # Refused before the task was even looked up, and nothing was posted.
    paths = [(r["method"], r["path"]) for r in server.requests]
    assert not any(path.endswith(("/pause", "/resume")) for _, path in paths)
    assert ("GET", "/api/v2/tasks/me/old") not in paths
