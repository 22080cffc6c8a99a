"""Field provenance: every key the client reads must be declared by the server's contract.

`TASKS_RECORD_READS` makes the client record the keys it reads from response bodies (see
`runner/coder/provenance.py`); `tests/conftest.py` turns it on for every test and judges the
reads afterwards. These tests show the check catches an undeclared read such as the
`has_ai_task` that no `codersdk.TemplateVersion` has (CONTRACT 1.6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, undeclared_reads, under_ci
from contract_schema import undeclared_read

from runner.coder import provenance, routes
from runner.coder.client import CoderClient
from runner.coder.config import Connection


def _reads(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("version", ["2.28.11", "2.29.0", "2.31.1", "2.34.2"])
def test_reading_has_ai_task_from_a_template_version_fails(
    make_sim: Any, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    target = tmp_path / "reads.jsonl"
    monkeypatch.setenv(provenance.ENV, str(target))
    server = make_sim(version)
    with CoderClient(Connection(url=server.url, token=server.token)) as client:
        chosen = client.get_template_version("coder", "claude-code", "v2")
        # What the old preflight did: read the flag from the decoded version body.
        body = client._object("GET", routes.template_version(chosen.id))
        assert body.get("has_ai_task") is None
    problems = undeclared_reads(target)
    assert problems == [
        f"GET /api/v2/templateversions/{{templateversion}} on v{version}+sim: the client reads "
        "`has_ai_task`, which codersdk.TemplateVersion does not declare"
    ]
    # The client's own reads on the same route are all declared.
    keys = {tuple(r["key"]) for r in _reads(target)}
    assert ("id",) in keys and ("has_ai_task",) in keys


def test_a_nested_undeclared_read_names_its_path(reference: Path) -> None:
    read = {
        "version": "v2.31.1+abc",
        "method": "GET",
        "path": "/api/v2/tasks",
        "status": 200,
        "key": ["tasks", "[]", "current_state", "confidence"],
    }
    assert undeclared_read(reference, read) == (
        "GET /api/v2/tasks on v2.31.1+abc: the client reads `tasks[].current_state.confidence`, "
        "which codersdk.TaskStateEntry does not declare"
    )
    declared = {**read, "key": ["tasks", "[]", "current_state", "state"]}
    assert undeclared_read(reference, declared) is None
    preset = {**read, "path": "/api/v2/templateversions/x/presets", "key": ["[]", "Default"]}
    assert undeclared_read(reference, preset) is None  # Go's field names (CONTRACT 1.6)


def test_the_client_records_what_it_reads(
    make_sim: Any, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "reads.jsonl"
    monkeypatch.setenv(provenance.ENV, str(target))
    server = make_sim("2.34.2")
    with CoderClient(Connection(url=server.url, token=server.token)) as client:
        version = client.get_template_version("coder", "claude-code", "v2")
        client.create_task(owner="me", template_version_id=version.id, prompt="x [sim:work=1]")
        (task,) = client.list_tasks()
        assert task.state in ("", "working", "idle")
    keys = {(r["path"], tuple(r["key"])) for r in _reads(target)}
    assert ("/api/v2/tasks", ("tasks", "[]", "current_state")) in keys
    assert ("/api/v2/buildinfo", ("version",)) in keys
    assert all(r["version"] == "v2.34.2+sim" for r in _reads(target))
    assert undeclared_reads(target) == []


def test_recording_is_off_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(provenance.ENV, raising=False)
    request = httpx.Request("GET", "http://example.invalid/api/v2/buildinfo")
    body = {"version": "v2.34.2"}
    response = httpx.Response(200, json=body, request=request)
    assert provenance.observe(body, response) is body  # untouched: no cost when off


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", "errors"), ("woodpecker", "errors"), ("", "skipped")]
)
def test_a_missing_reference_fails_under_ci_and_skips_locally(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    """Contract tests cannot vanish: any non-empty `CI` (`true` as `.ci/run` runs, or a CI
    service's own value) turns the skip into a failure, and every file the tests read is
    checked, not only CONTRACT.md. The Chats side's contract tests are held to the same rule."""
    partial = tmp_path / "coder-reference"
    partial.mkdir()
    (partial / "CONTRACT.md").write_text("only this one\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
    env.update({"CI": ci, "TASKS_TEST_REFERENCE": str(partial)})
    test = "tests/coder/test_contract_requests.py::test_send_request_definition"
    chats = "tests/sim/test_chats_contract.py::test_workspace_responses_follow_the_swagger"
    pytest_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-rs", test, chats]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = proc.stdout + proc.stderr
    assert f"3 {outcome}" in output, output
    assert "tasks-swagger.json" in output  # names what is missing
    assert proc.returncode == (1 if outcome == "errors" else 0), output


@pytest.mark.parametrize(
    ("value", "ci"),
    [("true", True), ("1", True), ("yes", True), ("TRUE", True), ("drone", True), ("", False)],
)
def test_any_non_empty_ci_counts_as_ci(
    monkeypatch: pytest.MonkeyPatch, value: str, ci: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert under_ci() is ci


def test_no_ci_variable_is_not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert under_ci() is False
