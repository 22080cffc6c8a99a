"""`tasks <cmd> --help` for the eight task commands equals Coder's golden help, renamed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_tasks

from runner import __version__

COMMANDS = ("create", "delete", "list", "logs", "pause", "resume", "send", "status")


def expected_help(golden: Path) -> str:
    """The golden text with Coder's command names replaced by ours (`coder task` → `tasks`)."""
    lines = golden.read_text(encoding="utf-8").split("\n")
    lines[0] = f"tasks v{__version__}"
    text = "\n".join(lines).replace("coder task", "tasks")
    return text.replace("Run `coder --help`", "Run `tasks --help`")


@pytest.mark.parametrize("name", COMMANDS)
def test_help_matches_coder_golden(reference: Path, name: str) -> None:
    golden = reference / "golden" / "head" / f"coder_task_{name}_--help.golden"
    result = run_tasks([name, "--help"])
    assert result.code == 0, result.stderr
    assert result.stdout == expected_help(golden)


@pytest.mark.parametrize(("alias", "name"), [("rm", "delete"), ("ls", "list"), ("stat", "status")])
def test_aliases_show_the_same_help(alias: str, name: str) -> None:
    assert run_tasks([alias, "--help"]).stdout == run_tasks([name, "--help"]).stdout


def test_global_options_stay_in_the_root_help() -> None:
    result = run_tasks(["--help"])
    assert result.code == 0
    for flag in ("--url", "--token", "--sim", "--debug"):
        assert flag in result.stdout
