"""`tasks create` end to end: input sources, env vars, template/version/preset resolution, owner."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from conftest import Result, run_tasks, sim_env, start_tasks

from runner.render.json_output import go_json
from runner.render.task_tables import STATUS_COLUMNS

#: Liveness bound for the agent to start working (simulated seconds pass at the usual scale).
STARTED_WITHIN = 60


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def api(server: Any, path: str) -> Any:
    """GET a path of the simulated deployment's API, as any Coder client would."""
    request = urllib.request.Request(
        f"{server.url}{path}", headers={"Coder-Session-Token": server.token}
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def served_task(server: Any, task_id: str) -> Any:
    base = "/api/experimental/tasks" if server.version.minor == 28 else "/api/v2/tasks"
    return api(server, f"{base}/me/{task_id}")


def version_and_presets(server: Any, version: str | None = None) -> tuple[str, dict[str, Any]]:
    """The id of claude-code's `version` (default: active) and its presets by name."""
    template = api(server, "/api/v2/organizations/coder/templates/claude-code")
    version_id = template["active_version_id"]
    if version:
        path = f"/api/v2/organizations/coder/templates/claude-code/versions/{version}"
        version_id = api(server, path)["id"]
    presets = api(server, f"/api/v2/templateversions/{version_id}/presets")
    return version_id, {p["Name"]: p for p in presets}


def used_preset(server: Any, task_id: str) -> str | None:
    # Coder's Task object does not carry the preset; the simulator's build record does.
    record = next(t for t in server.store.tasks if t.id == task_id)
    preset: str | None = record.workspace.latest.preset_id
    return preset


def create_quiet(args: list[str], env: dict[str, str]) -> str:
    return ok(run_tasks(["create", "-q", *args], env=env)).stdout.strip()


def test_input_from_argument_stdin_flag_and_pipe(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "arg", "From an argument"], env=env))
    ok(run_tasks(["create", "--name", "flag", "--stdin"], env=env, input="From --stdin\n"))
    ok(run_tasks(["create", "--name", "pipe"], env=env, input="From a pipe\n"))
    prompts = {
        t["name"]: t["initial_prompt"]
        for t in json.loads(ok(run_tasks(["list", "-o", "json"], env=env)).stdout)
    }
    assert prompts == {
        "arg": "From an argument",
        "flag": "From --stdin\n",
        "pipe": "From a pipe\n",
    }


def test_template_version_and_preset_from_env(sim: Any) -> None:
    v1_id, presets = version_and_presets(sim, "v1")
    env = {
        **sim_env(sim),
        "CODER_TASK_TEMPLATE_NAME": "claude-code",
        "CODER_TASK_TEMPLATE_VERSION": "v1",
        "CODER_TASK_PRESET_NAME": "Large",
        "CODER_ORGANIZATION": "coder",
    }
    task_id = create_quiet(["--name", "pinned", "Pinned"], env)
    assert served_task(sim, task_id)["template_version_id"] == v1_id
    assert used_preset(sim, task_id) == presets["Large"]["ID"]


def test_defaults_use_the_active_version_and_no_preset(sim: Any) -> None:
    env = sim_env(sim)
    active_id, presets = version_and_presets(sim)
    task_id = create_quiet(["--name", "plain", "Plain"], env)
    assert served_task(sim, task_id)["template_version_id"] == active_id
    assert used_preset(sim, task_id) is None
    # An empty --preset picks the version's default preset.
    task_id = create_quiet(["--name", "dflt", "--preset", "", "Default preset"], env)
    default = next(p for p in presets.values() if p["Default"])
    assert used_preset(sim, task_id) == default["ID"]


def test_owner_and_quiet(sim: Any) -> None:
    env = sim_env(sim)
    task_id = ok(run_tasks(["create", "-q", "--owner", "alice", "For Alice"], env=env)).stdout
    task = json.loads(ok(run_tasks(["status", task_id.strip(), "-o", "json"], env=env)).stdout)
    assert task["owner_name"] == "alice"
    assert task["id"] == task_id.strip()


def test_json_output_is_exactly_what_the_server_sent(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "exact", "Exact <&> JSON [sim:work=0]"], env=env))
    base = "/api/experimental/tasks" if sim.version.minor == 28 else "/api/v2/tasks"
    served = api(sim, f"{base}?q=owner%3A%22me%22")["tasks"]
    ours = ok(run_tasks(["list", "-o", "json"], env=env)).stdout
    # Same objects, same key order, Go's indentation and escaping (timestamps may move on).
    parsed = json.loads(ours)
    assert [list(t) for t in parsed] == [list(t) for t in served]
    assert parsed[0]["initial_prompt"] == "Exact <&> JSON [sim:work=0]"
    assert "\\u003c\\u0026\\u003e" in ours
    assert ours == go_json(parsed) + "\n"


def test_status_and_logs_show_every_column(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "wide", "Wide [sim:work=0]"], env=env))
    ok(run_tasks(["status", "wide", "--watch", "--watch-interval", "50ms"], env=env))
    status = ok(run_tasks(["status", "wide", "-c", ",".join(STATUS_COLUMNS)], env=env)).stdout
    header, row = status.rstrip("\n").split("\n")
    assert header.startswith("ID  ") and header.rstrip().endswith("STATE CHANGED  HEALTHY")
    assert row.rstrip().endswith("true")
    logs = ok(run_tasks(["logs", "wide", "-c", "time,id,type"], env=env)).stdout.split("\n")
    assert logs[0].split() == ["TIME", "ID", "TYPE"]
    assert logs[1].split()[1:] == ["0", "input"]


def test_send_fails_when_the_task_is_paused_while_waiting(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    env = sim_env(server)
    # Work that never ends within the test, however slowly the machine runs it: the pause,
    # not the agent finishing, must be what ends the wait.
    task_id = create_quiet(["--name", "busy", "Long work [sim:work=100000]"], env)
    sender = start_tasks(["send", "busy", "more", "--poll-interval", "50ms"], env=env)
    # Pause once the task is up and send is waiting.
    deadline = time.monotonic() + STARTED_WITHIN
    while (served_task(server, task_id).get("current_state") or {}).get("state") != "working":
        assert time.monotonic() < deadline, "the agent never started working"
        time.sleep(0.05)
    # Send says on stderr when it starts waiting: pause only then.
    assert sender.stderr is not None
    first = sender.stderr.readline()
    waiting = 'Waiting for task "admin/busy" to become idle...\n'
    assert first == waiting
    ok(run_tasks(["pause", "busy", "--yes", "--poll-interval", "50ms"], env=env))
    out, rest = sender.communicate(timeout=30)
    err = first + rest
    assert sender.returncode == 1, out + err
    assert err.startswith(waiting)
    err = err[len(waiting) :]
    # Coder's two outcomes: the stop build was seen (`unknown`) or only its result (`paused`).
    assert err in (
        'error: wait for task "admin/busy" to be idle: '
        "task was paused while waiting for it to become idle\n",
        'error: wait for task "admin/busy" to be idle: '
        "task entered unknown state while waiting for it to become idle\n",
    )
