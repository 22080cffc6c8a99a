"""`tasks create` end to end: input sources, env vars, template/version/preset resolution, owner."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

from conftest import ROOT, Result, run_tasks, sim_env

from runner.render.json_output import go_json
from runner.render.task_tables import STATUS_COLUMNS


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def sim_record(server: Any, name: str) -> Any:
    return next(t for t in server.store.tasks if t.name == name)


def claude_code(server: Any) -> Any:
    coder = next(o for o in server.directory.orgs if o.name == "coder")
    return next(
        t for t in server.directory.templates if t.name == "claude-code" and t.org_id == coder.id
    )


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
    template = claude_code(sim)
    v1 = next(v for v in template.versions if v.name == "v1")
    large = next(p for p in v1.presets if p.name == "Large")
    env = {
        **sim_env(sim),
        "CODER_TASK_TEMPLATE_NAME": "claude-code",
        "CODER_TASK_TEMPLATE_VERSION": "v1",
        "CODER_TASK_PRESET_NAME": "Large",
        "CODER_ORGANIZATION": "coder",
    }
    ok(run_tasks(["create", "--name", "pinned", "Pinned"], env=env))
    record = sim_record(sim, "pinned")
    assert record.template_version_id == v1.id
    assert record.workspace.latest.preset_id == large.id


def test_defaults_use_the_active_version_and_no_preset(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "plain", "Plain"], env=env))
    record = sim_record(sim, "plain")
    assert record.template_version_id == claude_code(sim).active_version_id
    assert record.workspace.latest.preset_id is None
    # An empty --preset picks the version's default preset.
    ok(run_tasks(["create", "--name", "dflt", "--preset", "", "Default preset"], env=env))
    small = next(p for p in claude_code(sim).versions[-1].presets if p.default)
    assert sim_record(sim, "dflt").workspace.latest.preset_id == small.id


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
    request = urllib.request.Request(
        f"{sim.url}{base}?q=owner%3A%22me%22", headers={"Coder-Session-Token": sim.token}
    )
    with urllib.request.urlopen(request) as response:
        served = json.loads(response.read())["tasks"]
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
    ok(run_tasks(["create", "--name", "busy", "Long work [sim:work=400]"], env=env))
    full_env = {**env, "PATH": "/usr/bin:/bin"}
    sender = subprocess.Popen(
        [sys.executable, "-m", "runner", "send", "busy", "more", "--poll-interval", "50ms"],
        env=full_env,
        cwd=str(ROOT),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The agent works for 8 s of real time; pause once the task is up and send is waiting.
    deadline = time.monotonic() + 10
    while sim_record(server, "busy").agent.reports_until(server.clock.now()) == []:
        assert time.monotonic() < deadline, "the agent never started working"
        time.sleep(0.05)
    time.sleep(0.3)
    ok(run_tasks(["pause", "busy", "--yes", "--poll-interval", "50ms"], env=env))
    out, err = sender.communicate(timeout=30)
    assert sender.returncode == 1, out + err
    # Coder's two outcomes: the stop build was seen (`unknown`) or only its result (`paused`).
    assert err in (
        'error: wait for task "admin/busy" to be idle: '
        "task was paused while waiting for it to become idle\n",
        'error: wait for task "admin/busy" to be idle: '
        "task entered unknown state while waiting for it to become idle\n",
    )
