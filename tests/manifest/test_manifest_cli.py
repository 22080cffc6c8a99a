"""`tasks validate`, `tasks render` and `tasks schema`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import ROOT, run_tasks

from runner import ownership

EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).parent / "fixtures"


def test_validate_the_examples() -> None:
    paths = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.tasks.yaml"))
    result = run_tasks(["validate", *paths])
    assert result.code == 0, result.output
    assert result.stdout.splitlines() == [
        "examples/agents.tasks.yaml: ok (2 tasks)",
        "examples/ci-seed.tasks.yaml: ok (3 tasks)",
        "examples/matrix.tasks.yaml: ok (8 tasks)",
        "examples/quickstart.tasks.yaml: ok (3 tasks)",
    ]
    assert result.stderr == ""


def test_validate_reports_every_error_of_every_file(tmp_path: Path) -> None:
    good = "examples/quickstart.tasks.yaml"
    bad = str(FIXTURES / "many-errors.yaml")
    result = run_tasks(["validate", good, bad, str(tmp_path)])
    assert result.code == 3
    assert "Traceback" not in result.output
    assert result.stdout == f"{good}: ok (3 tasks)\n"
    expected = (FIXTURES / "many-errors.expected").read_text().splitlines()
    assert result.stderr.splitlines() == [
        *(f"{bad}:{line}" for line in expected),
        f"{tmp_path}: is a directory, not a manifest file",
        f"error: {len(expected) + 1} problems in 2 of 3 files",
    ]


def test_validate_needs_a_file() -> None:
    result = run_tasks(["validate"])
    assert result.code == 3
    assert "Missing argument 'FILES...'" in result.stderr


def test_validate_with_var_and_env(tmp_path: Path) -> None:
    path = tmp_path / "ci.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: ci\ndefaults: {template: claude-code}\ntasks:\n"
        "  - name: 'pr-{{ vars.pr }}'\n    prompt: 'Review {{ env.SHA }}'\n"
    )
    ok = run_tasks(["validate", str(path), "--var", "pr=12", "--env", "SHA"], env={"SHA": "abc"})
    assert ok.code == 0, ok.output
    no_env = run_tasks(["validate", str(path), "--var", "pr=12"], env={"SHA": "abc"})
    assert no_env.code == 3
    assert "env.SHA is not available" in no_env.stderr
    unset = run_tasks(["validate", str(path), "--var", "pr=12", "--env", "NOT_SET_ANYWHERE"])
    assert unset.code == 3
    assert unset.stderr == (
        "error: --env NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set\n"
    )
    bad_var = run_tasks(["validate", str(path), "--var", "pr"])
    assert bad_var.code == 3
    assert bad_var.stderr == 'error: --var "pr": expected key=value, e.g. --var repo=api\n'


def test_render_shows_the_expanded_matrix_as_yaml() -> None:
    result = run_tasks(["render", "examples/matrix.tasks.yaml"])
    assert result.code == 0, result.output
    document = yaml.safe_load(result.stdout)
    marker = ownership.marker("upgrades")
    assert document["batch"] == "upgrades"
    assert [(t["name"], t["coder_name"], t["source"]) for t in document["tasks"]] == [
        (name, f"{name}-{marker}", f"examples/matrix.tasks.yaml:{line}")
        for name, line in [
            ("py-users-api", 18),
            ("py-users-worker", 18),
            ("py-billing-api", 18),
            ("py-billing-worker", 18),
            ("py-search-api", 18),
            ("py-ledger-api", 18),
            ("lint-users", 36),
            ("lint-billing", 36),
        ]
    ]
    billing = document["tasks"][2]
    assert billing["matrix"] == {"service": "billing", "part": "api", "reviewer": "alice"}
    assert billing["prompt"] == (
        "Upgrade the api of the billing service to Python 3.12.\n"
        "Fix whatever the upgrade breaks and keep the tests green."
    )
    assert billing["follow_ups"] == ["Now remove the compatibility code for older Python versions."]
    assert (billing["preset"], billing["timeout"], billing["wait"]) == ("Large", "20m", "idle")
    assert document["tasks"][6]["wait"] == "none"
    # Multi-line prompts stay readable: a literal block, not an escaped string.
    assert "  prompt: |-\n    Upgrade the api of the users service" in result.stdout


def test_render_json_with_a_var_override() -> None:
    result = run_tasks(["render", "examples/ci-seed.tasks.yaml", "-o", "json", "--var", "pr=1234"])
    assert result.code == 0, result.output
    document = json.loads(result.stdout)
    security, tests, changelog = document["tasks"]
    assert security["prompt"].startswith("Review pull request #1234 of coder/tasks (branch main)")
    assert (security["owner"], tests["owner"], changelog["owner"]) == ("alice", "bob", "me")
    assert (security["wait"], changelog["wait"]) == ("complete", "idle")
    assert security["template_version"] == "v2"
    assert (security["idle_grace"], security["poll_interval"], security["on_drift"]) == (
        "10s",
        "5s",
        "replace",
    )
    assert "matrix" not in security
    assert security["source"] == "examples/ci-seed.tasks.yaml:28"


def test_render_of_a_broken_file_lists_every_error() -> None:
    bad = str(FIXTURES / "duplicate-names.yaml")
    result = run_tasks(["render", bad])
    assert result.code == 3
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {bad}:6:11: tasks[0].name: ")
    assert lines[0].endswith("(and 1 more)")
    assert lines[1].startswith(f"  {bad}:10:11: tasks[2].name: ")


def test_schema_prints_the_shipped_schema() -> None:
    result = run_tasks(["schema"])
    assert result.code == 0
    shipped = (ROOT / "runner" / "manifest" / "batch.schema.json").read_text(encoding="utf-8")
    assert result.stdout == shipped


def test_the_pre_commit_hook_runs_validate_on_batch_files() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "tasks-validate"
    assert hook["entry"] == "tasks validate"
    assert hook["files"] == r"\.tasks\.ya?ml$"
