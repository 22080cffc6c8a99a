"""A task without a template: allowed by the manifest (Chats lets the agent pick its own
environment), written out by `tasks render` without one, and refused on Tasks with its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_tasks

from runner.errors import Location, ManifestError
from runner.manifest import load_batch
from runner.manifest.document import batch_document, to_yaml
from runner.preflight import require_templates

BODY = """\
version: 1
batch: free
tasks:
  - name: pinned
    prompt: Fix it.
    template: claude-code
  - name: anywhere
    prompt: Look around.
    organization: research
"""


def load(tmp_path: Path) -> tuple[str, list[object]]:
    path = tmp_path / "free.tasks.yaml"
    path.write_text(BODY, encoding="utf-8")
    return str(path), list(load_batch(str(path), environ={}).tasks)


def test_a_task_without_a_template_loads_with_none(tmp_path: Path) -> None:
    _, (pinned, anywhere) = load(tmp_path)
    assert pinned.template == "claude-code"  # type: ignore[attr-defined]
    assert anywhere.template is None  # type: ignore[attr-defined]
    assert anywhere.organization == "research"  # type: ignore[attr-defined]


def test_render_leaves_a_missing_template_out(tmp_path: Path) -> None:
    path, _ = load(tmp_path)
    batch = load_batch(path, environ={})
    pinned, anywhere = batch_document(batch)["tasks"]
    assert pinned["template"] == "claude-code"
    assert "template" not in anywhere
    assert "null" not in to_yaml(batch)


def test_tasks_refuses_every_task_without_a_template_at_its_line(tmp_path: Path) -> None:
    path, tasks = load(tmp_path)
    with pytest.raises(ManifestError) as caught:
        require_templates(tasks)  # type: ignore[arg-type]
    (error,) = caught.value.errors
    assert str(error) == (
        f"{path}:7: task 'anywhere': Tasks needs a template (Coder Tasks creates every task "
        "from one); set `template` in the task or in defaults, or run the batch on chats"
    )
    require_templates(tasks[:1])  # type: ignore[arg-type]


def test_a_location_without_a_column_is_file_and_line() -> None:
    assert str(Location("b.yaml", 7, 0)) == "b.yaml:7"
    assert str(Location("b.yaml", 7, 3, "tasks[1]")) == "b.yaml:7:3: tasks[1]"
    assert str(Location("b.yaml", 0, 0)) == "b.yaml"


def test_validate_refuses_it_only_where_the_manifest_insists_on_tasks(tmp_path: Path) -> None:
    path, _ = load(tmp_path)
    assert run_tasks(["validate", path]).stdout == f"{path}: ok (2 tasks)\n"
    insisting = tmp_path / "tasks.tasks.yaml"
    insisting.write_text(
        BODY.replace("batch: free\n", "batch: free\ndefaults:\n  backend: tasks\n")
    )
    result = run_tasks(["validate", str(insisting)])
    assert result.code == 3
    assert result.stderr.splitlines() == [
        f"{insisting}:9: task 'anywhere': Tasks needs a template (Coder Tasks creates every task "
        "from one); set `template` in the task or in defaults, or run the batch on chats",
        "error: 1 problem in 1 of 1 files",
    ]
