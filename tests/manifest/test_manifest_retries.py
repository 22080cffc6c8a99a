"""`retries`, `retry_on` and `retry_prompt` in a manifest: defaults, located errors (exit 3),
saved plans, and a task's `wait` they need."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from runner.errors import ManifestError
from runner.manifest import load_batch
from runner.manifest.model import DesiredTask
from tests.conftest import run_tasks

BASE = """\
version: 1
batch: rt
defaults:
  template: claude-code
  retries: 2
tasks:
  - name: uses-default
    prompt: Fix it.
  - name: own
    prompt: Fix it.
    retries: 1
    retry_on: [timeout]
    retry_prompt: "Try {{ vars.again }}"
  - name: never
    prompt: Fix it.
    retries: 0
vars:
  again: once more
"""


def _load(tmp_path: Path, text: str) -> tuple[DesiredTask, ...]:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(text, encoding="utf-8")
    return load_batch(str(path)).tasks


def test_defaults_and_a_task_s_own_values(tmp_path: Path) -> None:
    default, own, never = _load(tmp_path, BASE)
    assert (default.retries, default.retry_on, default.retry_prompt) == (
        2,
        ("error", "expect"),
        None,
    )
    assert (own.retries, own.retry_on, own.retry_prompt) == (1, ("timeout",), "Try once more")
    assert never.retries == 0


def test_saved_plans_carry_retries_and_leave_them_out_when_none(tmp_path: Path) -> None:
    default, own, never = _load(tmp_path, BASE)
    for task in (default, own, never):
        assert DesiredTask.from_data("rt", task.to_data()) == replace(task, origin=None)
    assert "retries" not in never.to_data() and "retry_on" not in never.to_data()
    with pytest.raises(ValueError):
        DesiredTask.from_data("rt", {**own.to_data(), "retries": 9})
    with pytest.raises(ValueError):
        DesiredTask.from_data("rt", {**own.to_data(), "retry_on": ["sometimes"]})


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("retries: 6", "tasks[0].retries: must be at most 5, not 6"),
        ("retries: -1", "tasks[0].retries: must be at least 0"),
        ('retries: "2"', "tasks[0].retries: expected a whole number, got a string"),
        ("retries: 1.5", "tasks[0].retries: expected a whole number, got a number"),
        ("retry_on: [error, never]", "tasks[0].retry_on[1]: must be one of error, expect, timeout"),
        ("retry_on: []", "tasks[0].retry_on: needs at least 1 item"),
        ("retry_on: [error, error]", "tasks[0].retry_on: lists a value more than once"),
        ("retry_on: error", "tasks[0].retry_on: expected a list, got a string"),
        ('retry_prompt: ""', "tasks[0].retry_prompt: must not be empty"),
        ("retrys: 1", 'tasks[0].retrys: unknown key "retrys" (did you mean "retries"?)'),
    ],
)
def test_bad_retry_fields_are_located_errors_with_exit_3(
    tmp_path: Path, field: str, message: str
) -> None:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(
        f"version: 1\nbatch: rt\ntasks:\n  - name: a\n    prompt: p\n    {field}\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as caught:
        load_batch(str(path))
    assert any(message in str(e) and ":6:" in str(e) for e in caught.value.errors), str(
        caught.value
    )
    validated = run_tasks(["validate", str(path)])
    assert validated.code == 3 and message in validated.output
    assert "Traceback" not in validated.output


def test_retries_without_a_wait_are_a_located_error(tmp_path: Path) -> None:
    text = (
        "version: 1\nbatch: rt\ndefaults:\n  retries: 1\n"
        "tasks:\n  - {name: a, prompt: p, wait: none}\n"
    )
    path = tmp_path / "b.tasks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_batch(str(path))
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:4:12: defaults.retries: retries need a wait: the task's `wait` is none, so no "
        "attempt's end is seen"
    ]
