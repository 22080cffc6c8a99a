"""`expect:` in a manifest: loaded with defaults, checked when the file loads, carried by
saved plans and `tasks render`, and never drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.errors import ManifestError
from runner.manifest import load_batch
from runner.manifest.document import task_document
from runner.manifest.model import DesiredTask, Expectations
from tests.conftest import run_tasks

BASE = """\
version: 1
batch: exp
defaults:
  template: claude-code
  expect:
    pull_request: opened
    message: "(?i)tests? pass"
tasks:
  - name: uses-default
    prompt: Fix it.
  - name: own
    prompt: Fix it.
    expect: {message: done}
"""


def _load(tmp_path: Path, text: str) -> tuple[DesiredTask, ...]:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(text, encoding="utf-8")
    return load_batch(str(path)).tasks


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        _load(tmp_path, text)
    return [str(e) for e in caught.value.errors]


def test_a_task_s_own_expect_replaces_the_default(tmp_path: Path) -> None:
    default, own = _load(tmp_path, BASE)
    assert default.expect == Expectations(pull_request="opened", message="(?i)tests? pass")
    assert own.expect == Expectations(message="done")


def test_no_expect_is_empty_and_checks_nothing(tmp_path: Path) -> None:
    (task,) = _load(tmp_path, "version: 1\nbatch: b\ntasks:\n  - {name: a, prompt: p}\n")
    assert task.expect == Expectations() and not task.expect


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        (
            '{message: "fix(es"}',
            "expect.message is not a valid regular expression: "
            "missing ), unterminated subpattern at position 3",
        ),
        (
            "{pull_request: closed}",
            'tasks[0].expect.pull_request: must be one of opened, merged, none, not "closed"',
        ),
        ("{max_cost: '$1.00'}", 'tasks[0].expect.max_cost: "$1.00": expected US dollars as a'),
        ("{max_cost: '1.0000001'}", "(at most 6 decimals)"),
        ("{costs: '1.00'}", 'expect.costs: unknown key "costs" (did you mean "max_cost"?)'),
        ("{message: 3}", "tasks[0].expect.message: expected a string, got a number"),
        ("{}", "tasks[0].expect: must not be empty"),
        ("opened", "tasks[0].expect: expected a mapping, got a string"),
    ],
)
def test_bad_expectations_are_located_errors(tmp_path: Path, expect: str, message: str) -> None:
    text = "version: 1\nbatch: b\ndefaults:\n  template: t\ntasks:\n  - name: a\n    prompt: p\n"
    text = text.replace("    prompt: p\n", f"    prompt: p\n    expect: {expect}\n")
    errors = _errors(tmp_path, text)
    assert len(errors) == 1, errors
    assert "b.tasks.yaml:8:" in errors[0] and message in errors[0], errors


def test_expect_without_a_wait_is_a_located_error(tmp_path: Path) -> None:
    errors = _errors(tmp_path, BASE.replace("  expect:\n", "  wait: none\n  expect:\n", 1))
    # The default's expectation is at fault once, not once per task; the task's own too.
    assert len(errors) == 2, errors
    assert all("expect needs a wait: the task's `wait` is none" in e for e in errors)
    assert ":7:5: defaults.expect: " in errors[0] and "tasks[1].expect: " in errors[1], errors


def test_validate_names_the_file_line_and_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(BASE.replace("(?i)tests? pass", "[unclosed"), encoding="utf-8")
    result = run_tasks(["validate", str(path)])
    assert result.code == 3, result.output
    assert f"{path}:7:" in result.stderr and "not a valid regular expression" in result.stderr
    assert "Traceback" not in result.output


def test_saved_plans_and_render_carry_expectations(tmp_path: Path) -> None:
    default, _ = _load(tmp_path, BASE)
    assert DesiredTask.from_data("exp", default.to_data()).expect == default.expect
    assert task_document(default)["expect"] == {
        "pull_request": "opened",
        "message": "(?i)tests? pass",
    }
    assert "expect" not in task_document(DesiredTask(batch="b", name="a", prompt="p"))
    # A plan saved before expectations existed reads as a plan without them.
    older = {k: v for k, v in default.to_data().items() if k != "expect"}
    assert not DesiredTask.from_data("exp", older).expect
    with pytest.raises(ValueError):
        DesiredTask.from_data("exp", {**default.to_data(), "expect": {"pull_request": "x"}})


def test_render_shows_expectations_as_written(tmp_path: Path) -> None:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = run_tasks(["render", str(path), "-o", "json"])
    assert result.code == 0, result.output
    tasks = json.loads(result.stdout)["tasks"]
    assert [t["expect"] for t in tasks] == [
        {"pull_request": "opened", "message": "(?i)tests? pass"},
        {"message": "done"},
    ]
