"""The manifest package is cheap to import: yaml, jsonschema and jinja2 load only with a file."""

from __future__ import annotations

import subprocess
import sys

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


def test_loading_a_manifest_brings_them_in() -> None:
    modules = loaded_after(
        "from runner.manifest import load_batch; load_batch('examples/quickstart.tasks.yaml')"
    )
    assert set(HEAVY) <= modules
