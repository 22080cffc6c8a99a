"""Bad command lines give one located line on stderr and exit 3, before any request is made."""

from __future__ import annotations

import pytest
from conftest import Result, run_tasks

# Points at a closed port: a usage error must be reported before anything is contacted.
NOWHERE = {"CODER_URL": "http://127.0.0.1:9", "CODER_SESSION_TOKEN": "secret-token-value"}


def assert_one_line_usage_error(result: Result, *needles: str) -> None:
    assert result.code == 3, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["list", "--status", "working"], ["--status", "working", "pending|initializing"]),
        (["list", "-c", "name,bogus"], ["--column", "bogus"]),
        (["list", "-o", "yaml"], ["--output", "yaml"]),
        (["logs", "t", "-c", "nope"], ["--column", "nope"]),
        (["status", "t", "-c", "healthy,nope"], ["nope"]),
        (["status"], ["tasks status", "<task>"]),
        (["status", "t", "--watch-interval", "soon"], ["--watch-interval", "soon"]),
        (["delete"], ["tasks delete"]),
        (["send", "t"], ["expected an input for the task"]),
        (["send", "t", ""], ["empty input"]),
        (["create", ""], ["a task cannot be started with an empty input"]),
        (["create"], ["expected an input for task"]),
        (["pause"], ["tasks pause"]),
        (["resume", "a", "b"], ["tasks resume"]),
        (["list", "--nope"], ["--nope"]),
    ],
)
def test_usage_errors_are_one_line(args: list[str], needles: list[str]) -> None:
    assert_one_line_usage_error(run_tasks(args, env=NOWHERE), *needles)


def test_columns_accept_underscores_and_any_case() -> None:
    # Parsing succeeds, so the command gets as far as contacting the (absent) server.
    result = run_tasks(["list", "-c", "Owner_Name,STATE changed"], env=NOWHERE)
    assert result.code == 1
    assert "--column" not in result.stderr
    assert "secret-token-value" not in result.output


def test_bare_tasks_prints_help_on_stdout_and_exits_0() -> None:
    result = run_tasks([], env=NOWHERE)
    assert result.code == 0, result.output
    assert result.stdout.startswith("Usage: tasks ")
    assert "apply" in result.stdout and "create" in result.stdout
    assert result.stderr == ""
