"""Shared option helpers: Go durations, column names, the confirmation prompt's refusal."""

from __future__ import annotations

import pytest

from runner.cli.options import confirm, normalize_column, parse_go_duration
from runner.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("250ms", 0.25), ("1m30s", 90.0), ("1.5h", 5400.0), ("0", 0.0), ("50ms", 0.05)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text, flag="--x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1", "soon", "1s2", "-1s", "1 s"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(InvalidInputError, match="--watch-interval"):
        parse_go_duration(text, flag="--watch-interval")


def test_columns_are_case_and_underscore_insensitive() -> None:
    assert normalize_column(" State_Changed ") == "state changed"


def test_confirm_refuses_without_a_terminal_and_passes_with_yes() -> None:
    # Under pytest stdin is not a terminal.
    with pytest.raises(InvalidInputError, match="pass --yes"):
        confirm("Delete these tasks: a/b?", yes=False)
    confirm("Delete these tasks: a/b?", yes=True)
