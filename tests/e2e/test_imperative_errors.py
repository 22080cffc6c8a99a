"""Failures end to end: one line on stderr, a non-zero exit, no traceback, never the token."""

from __future__ import annotations

from typing import Any

from conftest import Result, run_tasks, sim_env


def assert_one_line_error(result: Result, token: str, *needles: str, code: int = 1) -> str:
    assert result.code == code, result.output
    assert "Traceback" not in result.output
    assert token not in result.output
    lines = result.stderr.rstrip("\n").split("\n")
    # One error line; Coder's `detail` and validations may follow as indented lines.
    assert lines[0].startswith("error: "), result.stderr
    assert all(line.startswith("  ") for line in lines[1:]), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_wrong_token(sim: Any) -> None:
    env = {**sim_env(sim), "CODER_SESSION_TOKEN": "abcdefghij-wrongsecretvalue"}
    result = run_tasks(["list"], env=env)
    assert_one_line_error(result, "wrongsecretvalue", "401")


def test_unknown_task_for_every_command(sim: Any) -> None:
    env = sim_env(sim)
    for args in (
        ["status", "ghost"],
        ["logs", "ghost"],
        ["send", "ghost", "hi"],
        ["delete", "ghost", "--yes"],
        ["status", "admin/ghost"],
        ["status", "00000000-0000-0000-0000-000000000000"],
    ):
        # The line names the task as given (`admin/ghost` by its name, a UUID by itself).
        named = args[1].split("/")[-1]
        assert_one_line_error(run_tasks(args, env=env), sim.token, f'"{named}"', "not found")


def test_invalid_identifier_and_invalid_name(sim: Any) -> None:
    env = sim_env(sim)
    assert_one_line_error(
        run_tasks(["status", "a/b/c"], env=env),
        sim.token,
        'invalid task identifier: "a/b/c"',
        code=3,
    )
    line = assert_one_line_error(
        run_tasks(["create", "--name", "not a valid name", "hello"], env=env), sim.token
    )
    assert line.startswith("error: create task: ")


def test_a_bad_name_among_several_deletes_nothing(sim: Any) -> None:
    env = sim_env(sim)
    assert run_tasks(["create", "--name", "keep-me", "x [sim:work=0]"], env=env).code == 0
    assert_one_line_error(
        run_tasks(["delete", "keep-me", "ghost", "--yes"], env=env),
        sim.token,
        'resolve task "ghost"',
    )
    assert not [r for r in sim.requests if r["method"] == "DELETE"]
    assert "keep-me" in run_tasks(["list"], env=env).stdout


def test_stopped_server(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    env = sim_env(server)
    server.stop()
    assert_one_line_error(run_tasks(["list"], env=env), server.token, "127.0.0.1")


def test_v238_server_does_not_serve_tasks(make_sim: Any) -> None:
    # `list`, `status`, `logs`, `send`, `delete` and `create` work on chats there
    # (tests/e2e/test_imperative_chats.py, test_chat_create.py); `pause` is Tasks only.
    server = make_sim("2.38.0")
    paused = run_tasks(["pause", "x", "--yes"], env=sim_env(server))
    line = assert_one_line_error(paused, server.token)
    assert line == (
        "error: this deployment (Coder v2.38.0) does not serve Coder Tasks: they were "
        "removed in Coder v2.38 (the successor is Coder Agents)"
    )
    sent = run_tasks(["send", "x", "more"], env=sim_env(server))
    line = assert_one_line_error(sent, server.token, code=3)
    assert line.startswith('error: "x" is not a chat: ')


def test_tasks_switched_off_lists_the_chats_instead(make_sim: Any) -> None:
    # v2.36 with Tasks off still serves Chats: `list` shows those (none here), quietly.
    server = make_sim("2.36.0", enable_ai_tasks=False)
    result = run_tasks(["list", "-q"], env=sim_env(server))
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr == ""  # no Tasks, so no notice that they are deprecated


def test_create_resolution_errors(sim: Any) -> None:
    env = sim_env(sim)
    cases = [
        (["create", "--template", "nope", "hi"], "get template: "),
        (
            ["create", "--template", "claude-code", "--template-version", "v9", "hi"],
            "get template version: ",
        ),
        (["create", "--preset", "Huge", "hi"], 'resolve preset: preset "Huge" not found'),
        (
            ["create", "--org", "nowhere", "hi"],
            'organization "nowhere" not found, are you sure you are a member of this organization?',
        ),
    ]
    for args, needle in cases:
        assert_one_line_error(run_tasks(args, env=env), sim.token, needle)


def test_create_needs_an_org_and_a_template_when_there_is_a_choice(sim: Any) -> None:
    env = {**sim_env(sim), "CODER_SESSION_TOKEN": sim.tokens["alice"]}
    token = sim.tokens["alice"]
    assert_one_line_error(
        run_tasks(["create", "hi"], env=env),
        token,
        "Must select an organization with --org=<org_name>. Choose from: ",
    )
    assert_one_line_error(
        run_tasks(["create", "hi"], env={**env, "CODER_ORGANIZATION": "research"}),
        token,
        "template name not provided, available templates: ",
    )


def test_token_never_printed_even_with_debug(sim: Any) -> None:
    env = sim_env(sim)
    args = ["--debug"]
    results = [
        run_tasks([*args, "create", "--name", "tok", "secret? [sim:work=0]"], env=env),
        run_tasks([*args, "list", "-o", "json"], env=env),
        run_tasks([*args, "status", "tok"], env=env),
        run_tasks([*args, "logs", "tok"], env=env),
        run_tasks([*args, "status", "ghost"], env=env),
        run_tasks([*args, "delete", "tok", "--yes"], env=env),
    ]
    for result in results:
        assert sim.token not in result.output
        assert sim.token.split("-", 1)[1] not in result.output
    assert "debug:" in results[1].stderr
    assert "coder-session-token: ********" in results[1].stderr.lower()


def test_sim_version_that_cannot_be_simulated_is_invalid_input() -> None:
    for version, needle in (("9.9", "invalid Coder version '9.9'"), ("2.20.0", "oldest is 2.28")):
        result = run_tasks(["--sim", "--sim-version", version, "list"])
        line = assert_one_line_error(result, "no-token-here", needle, code=3)
        assert "bug" not in line
