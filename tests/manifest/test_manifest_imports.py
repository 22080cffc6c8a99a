"""The manifest package is cheap to import: yaml, jsonschema and jinja2 load only with a file,
and only what the file needs: jsonschema to explain an invalid one (a valid one passes the
compiled check), jinja2 for a string that is more than text and `{{ a.b }}` lookups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

HEAVY = ("yaml", "jsonschema", "jinja2")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in output.split()}


def test_the_model_and_entry_points_import_nothing_heavy() -> None:
    modules = loaded_after("import runner.manifest, runner.manifest.model")
    assert modules.isdisjoint(HEAVY)


def test_loading_a_valid_manifest_of_plain_lookups_brings_in_yaml_alone() -> None:
    modules = loaded_after(
        "from runner.manifest import load_batch; load_batch('examples/quickstart.tasks.yaml')"
    )
    assert "yaml" in modules
    assert modules.isdisjoint(("jsonschema", "jinja2"))


@pytest.mark.parametrize(
    ("task", "needed"),
    [
        ("{name: a, prompt: '{% for r in vars.repos %}{{ r }} {% endfor %}'}", "jinja2"),
        ("{name: a, prompt: hi, wait: sometimes}", "jsonschema"),
    ],
)
def test_what_a_manifest_needs_is_brought_in(tmp_path: Path, task: str, needed: str) -> None:
    path = tmp_path / "m.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: b\nvars: {repos: [x, y]}\ndefaults: {template: t}\n"
        f"tasks:\n  - {task}\n"
    )
    statement = (
        "from runner.manifest import load_batch\n"
        f"try:\n    load_batch({str(path)!r})\nexcept Exception:\n    pass"
    )
    assert needed in loaded_after(statement)
