"""The imperative flow end to end: create -> status --watch -> send -> logs -> delete.

Runs the real `tasks` command against the simulator over HTTP, on both API generations.
"""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import Result, run_tasks, sim_env

CREATED = re.compile(
    r"^The task (\S+) has been created at [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d!\n$"
)
FAST = ["--watch-interval", "50ms"]
POLL = ["--poll-interval", "50ms"]


def wait_for_message(task: str, prefix: str, env: dict[str, str], tries: int = 50) -> None:
    """Poll `tasks status -o json` until the agent's message starts with `prefix`."""
    for _ in range(tries):
        result = run_tasks(["status", task, "-o", "json"], env=env)
        state = json.loads(result.stdout).get("current_state") or {}
        if str(state.get("message", "")).startswith(prefix):
            return
    raise AssertionError(f"{task} never reported {prefix!r}")


def ok(result: Result, token: str) -> Result:
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    assert token not in result.output
    return result


def test_create_watch_send_logs_delete(sim: Any) -> None:
    # The agent works 6 s of real time, so `status --watch` sees it working even when the
    # machine is loaded and the command takes seconds to start.
    env = sim_env(sim)

    created = ok(
        run_tasks(["create", "--name", "flow-1", "Build it [sim:work=300]"], env=env), sim.token
    )
    match = CREATED.match(created.stdout)
    assert match and match.group(1) == "flow-1", created.stdout

    watched = ok(run_tasks(["status", "flow-1", "--watch", *FAST], env=env), sim.token)
    lines = watched.stdout.rstrip("\n").split("\n")
    assert lines[0].split() == ["STATE", "CHANGED", "STATUS", "HEALTHY", "STATE", "MESSAGE"]
    assert sum("STATUS" in line for line in lines) == 1  # later rows come without a header
    assert len(lines) >= 3  # at least one change was seen while the agent worked
    assert " working " in watched.stdout
    # Watch ends at the first non-working state: the idle between steps or the final one.
    assert lines[-1].split()[2:5] == ["active", "true", "idle"]
    wait_for_message("flow-1", "Done:", env)

    sent = ok(run_tasks(["send", "flow-1", "Add tests [sim:work=5]", *POLL], env=env), sim.token)
    assert sent.stdout == ""
    wait_for_message("flow-1", "Done: Add tests", env)

    table = ok(run_tasks(["logs", "flow-1"], env=env), sim.token).stdout.split("\n")
    assert table[0].split() == ["TYPE", "CONTENT"]
    assert [row.split()[0] for row in table[1:5]] == ["input", "output", "input", "output"]
    assert "Add tests [sim:work=5]" in table[3]

    as_json = json.loads(ok(run_tasks(["logs", "flow-1", "-o", "json"], env=env), sim.token).stdout)
    assert [list(entry) for entry in as_json] == [["id", "content", "type", "time"]] * 4
    assert [entry["id"] for entry in as_json] == [0, 1, 2, 3]
    assert as_json[2]["content"] == "Add tests [sim:work=5]"

    deleted = ok(run_tasks(["delete", "flow-1", "--yes"], env=env), sim.token)
    assert re.fullmatch(
        r"Deleted task admin/flow-1 at [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\n", deleted.stdout
    )
    empty = ok(run_tasks(["list"], env=env), sim.token)
    assert (empty.stdout, empty.stderr) == ("", "No tasks found.\n")


def test_status_json_is_the_raw_task_and_watch_prints_whole_objects(sim: Any) -> None:
    env = sim_env(sim)
    task_id = ok(run_tasks(["create", "-q", "Quick one [sim:work=300]"], env=env), sim.token).stdout
    task_id = task_id.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)

    # Watched from the start: the task starts, works, then reports idle.
    watched = ok(run_tasks(["stat", task_id, "--watch", "-o", "json", *FAST], env=env), sim.token)
    decoder = json.JSONDecoder()
    text, objects = watched.stdout, []
    while text.strip():
        obj, end = decoder.raw_decode(text.lstrip())
        objects.append(obj)
        text = text.lstrip()[end:]
    assert len(objects) >= 2
    assert objects[-1]["current_state"]["state"] == "idle"
    assert all(o["id"] == task_id for o in objects)

    task = json.loads(ok(run_tasks(["status", task_id, "-o", "json"], env=env), sim.token).stdout)
    assert task["id"] == task_id
    assert "healthy" not in task and "state changed" not in task  # computed columns stay out
    assert ("display_name" in task) == (sim.version.minor >= 29)


def test_send_waits_for_a_starting_task_then_for_a_busy_agent(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "eager", "Long job [sim:work=300]"], env=env), sim.token)
    # Sent right away: the task is still starting, then its agent works for a while.
    sent = ok(
        run_tasks(["send", "admin/eager", "--stdin", *POLL], env=env, input="Next step\n"),
        sim.token,
    )
    assert sent.stdout == ""
    assert sent.stderr.startswith('Waiting for task "admin/eager" to become idle...')
    logs = json.loads(ok(run_tasks(["logs", "eager", "-o", "json"], env=env), sim.token).stdout)
    # The simulator refuses input before the task is active, so getting here means send waited.
    assert logs[0]["content"] == "Long job [sim:work=300]"
    assert "Next step\n" in [e["content"] for e in logs if e["type"] == "input"]
