"""Connection discovery and redaction through the real `tasks` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import run_tasks, sim_env


def test_coder_login_config_dir_is_enough(sim: Any, tmp_path: Path) -> None:
    login = tmp_path / "coderv2"
    login.mkdir()
    (login / "url").write_text(sim.url + "\n")
    (login / "session").write_text(sim.token + "\n")
    result = run_tasks(["list"], env={"CODER_CONFIG_DIR": str(login)})
    assert result.code == 0, result.output
    assert "No tasks found." in result.stderr
    assert any(r["path"].endswith("/tasks") for r in sim.requests)


def test_xdg_config_home_login_is_found(sim: Any, tmp_path: Path) -> None:
    login = tmp_path / "coderv2"
    login.mkdir()
    (login / "url").write_text(sim.url)
    (login / "session").write_text(sim.token)
    result = run_tasks(["list"], env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.code == 0, result.output


def test_nothing_configured_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_tasks(["list"], env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.code == 1
    first = result.stderr.splitlines()[0]
    assert first == (
        "error: no Coder deployment configured: pass --url and --token, set CODER_URL and "
        "CODER_SESSION_TOKEN, run `coder login`, or try --sim"
    )
    assert "Traceback" not in result.output


def test_debug_shows_requests_but_never_the_token(sim: Any) -> None:
    result = run_tasks(["--debug", "list"], env=sim_env(sim))
    assert result.code == 0, result.output
    assert "GET /api/v2/buildinfo -> 200 in" in result.stderr
    assert 'tasks?q=owner:"me" -> 200 in' in result.stderr
    assert sim.token not in result.output
    assert "********" in result.stderr


def test_wrong_token_is_one_line_with_the_login_hint(sim: Any) -> None:
    env = {**sim_env(sim), "CODER_SESSION_TOKEN": "wrongid-wrongsecretvalue"}
    result = run_tasks(["list"], env=env)
    assert result.code == 1
    assert "Try logging in using 'coder login'." in result.stderr.splitlines()[0]
    assert "wrongsecretvalue" not in result.output
    assert "Traceback" not in result.output


def test_v2_38_is_one_line_and_exit_1(make_sim: Any) -> None:
    # `list`, `status`, `logs` and `create` work on chats there; `pause` still needs Tasks.
    result = run_tasks(["pause", "x", "--yes"], env=sim_env(make_sim("2.38.0")))
    assert result.code == 1
    assert result.stderr.splitlines()[0] == (
        "error: this deployment (Coder v2.38.0) does not serve Coder Tasks: they were removed "
        "in Coder v2.38 (the successor is Coder Agents)"
    )


def test_v2_35_prints_the_deprecation_notice(make_sim: Any) -> None:
    result = run_tasks(["list"], env=sim_env(make_sim("2.35.0")))
    assert result.code == 0, result.output
    assert "Coder Tasks are deprecated from Coder v2.35" in result.stderr


def test_bad_header_is_a_located_one_line_error(sim: Any) -> None:
    result = run_tasks(["--header", "NoEquals", "list"], env=sim_env(sim))
    assert result.code == 1
    assert result.stderr.splitlines()[0] == (
        "error: invalid header 'NoEquals' from --header/CODER_HEADER: expected key=value"
    )
