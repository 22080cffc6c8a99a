"""Regressions found by using the imperative commands the way people do, end to end."""

from __future__ import annotations

import json
import time
from typing import Any

from conftest import run_tasks, running_tasks, sim_env


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


def _wait_for_status(name: str, status: str, env: dict[str, str]) -> None:
    for _ in range(200):
        result = run_tasks(["status", name, "-o", "json"], env=env)
        if json.loads(result.stdout)["status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never became {status}")


def test_watch_of_a_task_deleted_meanwhile_says_it_is_gone(sim: Any) -> None:
    env = sim_env(sim)
    assert run_tasks(["create", "--name", "watched", "work [sim:work=100000]"], env=env).code == 0
    _wait_until_working("watched", env)
    args = ["status", "watched", "--watch", "--watch-interval", "50ms"]
    with running_tasks(args, env=env) as watch:
        assert watch.stdout is not None
        assert watch.stdout.readline().startswith("STATE CHANGED")
        assert run_tasks(["delete", "watched", "--yes"], env=env).code == 0
        _, stderr = watch.communicate(timeout=30)
    assert watch.returncode == 1
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        'error: task "admin/watched" is gone (deleted while being watched?): '
        "Resource not found or you do not have access to this resource"
    ]


def _assert_clean_failure(result: Any, *secrets: str) -> str:
    assert result.code == 1, result.output
    assert "Traceback" not in result.output and "bug in tasks" not in result.output
    for secret in secrets:
        assert secret not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return str(errors[0])


def test_a_token_no_header_can_carry_is_refused_without_showing_it(sim: Any) -> None:
    for token in ("abcdefghij-line\nbreak", "abcdefghij-nön-ascii", "abcdefghij-ctrl\x01x"):
        env = {**sim_env(sim), "CODER_SESSION_TOKEN": token}
        line = _assert_clean_failure(run_tasks(["list"], env=env), token, repr(token)[1:-1])
        assert "session token" in line and "HTTP header cannot carry" in line


def test_a_header_value_no_header_can_carry_is_a_clear_error(sim: Any) -> None:
    result = run_tasks(["--header", "X-Team=café", "list"], env=sim_env(sim))
    line = _assert_clean_failure(result)
    assert line.startswith("error: invalid header 'X-Team' from --header/CODER_HEADER")


def test_a_password_in_the_url_is_never_printed(sim: Any) -> None:
    secret = "pw-URLSECRET"
    url = sim.url.replace("://", f"://someone:{secret}@", 1)
    dead = "http://someone:" + secret + "@127.0.0.1:1"
    for target in (url, dead):
        env = {**sim_env(sim), "CODER_URL": target}
        result = run_tasks(["--debug", "status", "no-such-task"], env=env)
        assert result.code == 1, result.output
        assert secret not in result.output
        assert "Traceback" not in result.output


def test_pause_and_resume_address_another_users_task_by_its_owner(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    alice = {**sim_env(server), "CODER_SESSION_TOKEN": server.tokens["alice"]}
    made = run_tasks(["create", "-O", "coder", "--name", "hers", "-q", "x [sim:work=0]"], env=alice)
    assert made.code == 0, made.output
    task_id = made.stdout.strip()
    admin = sim_env(server)
    _wait_for_status("alice/hers", "active", admin)
    poll = ["--poll-interval", "50ms"]
    for action in ("pause", "resume"):
        result = run_tasks([action, "alice/hers", "--yes", *poll], env=admin)
        assert result.code == 0, result.output
    posts = [
        (e["path"], e["status"]) for e in server.request_log.entries() if e["method"] == "POST"
    ]
    assert (f"/api/v2/tasks/alice/{task_id}/pause", 202) in posts
    assert (f"/api/v2/tasks/alice/{task_id}/resume", 202) in posts


def test_delete_of_one_task_named_twice_deletes_it_once(sim: Any) -> None:
    env = sim_env(sim)
    made = run_tasks(["create", "--name", "twice", "-q", "x [sim:work=0]"], env=env)
    assert made.code == 0, made.output
    _wait_for_status("twice", "active", env)
    result = run_tasks(["delete", "twice", made.stdout.strip(), "admin/twice", "--yes"], env=env)
    assert result.code == 0, result.output
    assert result.stdout.count("Deleted task admin/twice at ") == 1, result.stdout
    assert run_tasks(["list", "-q"], env=env).stdout == ""


def test_usage_errors_of_every_command_are_one_line() -> None:
    for args, start in (
        (["validate"], "error: tasks validate: Missing argument"),
        (["schema", "extra"], "error: tasks schema: Got unexpected extra argument"),
        (["sim", "--bogus"], "error: tasks sim: No such option '--bogus'"),
        (["bogus"], "error: tasks: No such command 'bogus'"),
        (["status"], "error: tasks status: Missing argument '<task>'"),
    ):
        result = run_tasks(args)
        assert result.code == 3, result.output
        assert result.stdout == ""
        assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
        assert result.stderr.startswith(start), result.stderr
