"""`after:` in a manifest: its default, where a task's own wins, and saved plans' copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ManifestError
from runner.manifest import load_batch
from runner.manifest.model import DesiredTask

BODY = """\
version: 1
batch: tidy
defaults:
  template: claude-code
  after: stop
tasks:
  - name: inherits
    prompt: one
  - name: own
    prompt: two
    after: remove
  - name: keeps
    prompt: three
    after: keep
"""


def test_after_defaults_to_keep_and_a_task_s_own_wins(tmp_path: Path) -> None:
    path = tmp_path / "batch.tasks.yaml"
    path.write_text(BODY)
    tasks = {t.name: t.after for t in load_batch(str(path)).tasks}
    assert tasks == {"inherits": "stop", "own": "remove", "keeps": "keep"}
    path.write_text(BODY.replace("  after: stop\n", "", 1))
    assert load_batch(str(path)).tasks[0].after == "keep"


def test_after_with_wait_none_is_located_at_the_task(tmp_path: Path) -> None:
    path = tmp_path / "batch.tasks.yaml"
    path.write_text(BODY.replace("    prompt: one\n", "    prompt: one\n    wait: none\n"))
    with pytest.raises(ManifestError) as raised:
        load_batch(str(path))
    (error,) = raised.value.errors
    assert (error.location.line, str(error).split(": ", 1)[1]) == (
        9,
        "tasks[0].wait: after: stop needs a wait: the task's `wait` is none, so its agent "
        "would be stopped as soon as it is created",
    )


def test_saved_plans_carry_after_only_when_it_is_not_keep() -> None:
    stop = DesiredTask(batch="b", name="a", prompt="p", after="stop")
    assert stop.to_data()["after"] == "stop"
    assert DesiredTask.from_data("b", stop.to_data()) == stop
    keep = DesiredTask(batch="b", name="a", prompt="p")
    assert "after" not in keep.to_data()
    with pytest.raises(ValueError, match="after is not one of"):
        DesiredTask.from_data("b", {**stop.to_data(), "after": "destroy"})
