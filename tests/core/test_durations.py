"""One duration grammar: a flag and a manifest field accept exactly the same spellings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import durations
from runner.cli.options import parse_go_duration
from runner.errors import InvalidInputError
from runner.manifest import load_batch
from runner.manifest.durations import parse_duration

SCHEMA = Path(__file__).parents[2] / "runner" / "manifest" / "batch.schema.json"
GOOD = ["1us", "250ms", "1m30s", "1.5h", "0", ".5s", "2h45m", "10ns"]
BAD = ["", "1", "soon", "1s2", "-1s", "1 s", "1d"]


@pytest.mark.parametrize("text", GOOD)
def test_flag_and_manifest_agree_on_good_durations(text: str) -> None:
    assert parse_go_duration(text, flag="--x") == parse_duration(text) == durations.parse(text)


@pytest.mark.parametrize("text", BAD)
def test_flag_and_manifest_agree_on_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_go_duration(text, flag="--x")
    with pytest.raises(ValueError):
        parse_duration(text)


def test_microseconds_in_a_manifest(tmp_path: Path) -> None:
    path = tmp_path / "b.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: b\ndefaults: {template: t}\n"
        "tasks:\n  - {name: a, prompt: p, poll_interval: 1500us, idle_grace: 0}\n"
    )
    (task,) = load_batch(str(path)).tasks
    assert task.poll_interval_seconds == pytest.approx(0.0015)
    assert task.idle_grace_seconds == 0.0


def test_the_schema_pattern_is_the_grammar() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    duration_patterns = [p for p in _patterns(schema) if "ms" in p]
    assert len(duration_patterns) == 4  # timeout, idle_grace, poll_interval, lost_contact_after
    assert set(duration_patterns) == {durations.PATTERN}


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        for value in node.values():
            found.extend(_patterns(value))
        return found
    if isinstance(node, list):
        return [p for item in node for p in _patterns(item)]
    return []
