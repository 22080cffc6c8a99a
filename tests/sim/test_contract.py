"""Every task response body of the simulator, validated against Coder's swagger definitions.

Each version is checked against the subset of its generation (v2.28.11, v2.29.0, v2.31.1 or
GA HEAD), allowing only the deviations CONTRACT.md documents (see tests/contract_schema.py).
Besides these targeted checks, the simulator fixtures judge every answer of every test the
same way (`check_exchanges` in tests/conftest.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from contract_schema import (
    contract_errors,
    contract_validator,
    exchange_errors,
    load_swagger,
    request_definition,
    response_definition,
)

from runner.sim.server import SimServer

from .helpers import SimApi


class ContractChecker:
    """Validates responses against the swagger subset of one API generation."""

    def __init__(self, reference: Path, server: SimServer) -> None:
        self.version = server.version
        self.swagger = load_swagger(reference, version=str(server.version))
        self.prefix = "/api/v2" if server.version.is_ga else "/api/experimental"
        self.checked: set[str] = set()

    def check(self, route: str, method: str, response: httpx.Response) -> None:
        path = f"{self.prefix}{route}"
        definition = response_definition(self.swagger, path, method, response.status_code)
        validator = contract_validator(
            self.swagger,
            definition,
            failure_state=not self.version.maps_failure_to_failed,
        )
        errors = contract_errors(validator, response.json())
        assert not errors, f"{method} {path} -> {definition}: {errors}"
        self.checked.add(definition)


@pytest.mark.parametrize("version", ["2.28.11", "2.29.0", "2.31.1", "2.34.2"])
def test_task_responses_follow_the_swagger(reference: Path, stepped_sim: Any, version: str) -> None:
    # Time moves a tenth of a simulated second per look: each state waited for is seen.
    server, now = stepped_sim(version)
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.1)))
    contract = ContractChecker(reference, server)
    one = "/tasks/{user}/{task}"

    created = api.create("[sim:work=1] [sim:fail] contract check")
    assert created.status_code == 201
    contract.check("/tasks/{user}", "post", created)
    task = created.json()
    contract.check(one, "get", api.http.get(api.task_path(task)))  # pending / initializing
    api.wait(task, lambda t: t["workspace_agent_lifecycle"] is not None)
    contract.check(one, "get", api.http.get(api.task_path(task)))  # agent coming up
    api.wait_state(task, "working")
    contract.check(one, "get", api.http.get(api.task_path(task)))
    contract.check(f"{one}/logs", "get", api.logs(task))
    failure = "failed" if server.version.maps_failure_to_failed else "failure"
    api.wait(task, lambda t: t["current_state"]["state"] == failure)
    contract.check(one, "get", api.http.get(api.task_path(task)))
    broken = api.create("[sim:build-fail] broken")
    api.wait(broken.json(), lambda t: t["status"] == "error")
    listed = api.http.get(f"{api.base}/tasks")
    contract.check("/tasks", "get", listed)
    assert {t["status"] for t in listed.json()["tasks"]} == {"active", "error"}

    if server.version.has_pause:
        paused = api.http.post(api.task_path(task, "/pause"))
        contract.check(f"{one}/pause", "post", paused)
        api.wait(task, lambda t: t["status"] == "paused")
        contract.check(one, "get", api.http.get(api.task_path(task)))
        contract.check(f"{one}/logs", "get", api.logs(task))  # a snapshot
        resumed = api.http.post(api.task_path(task, "/resume"))
        contract.check(f"{one}/resume", "post", resumed)
        contract.check(one, "get", api.http.get(api.task_path(task)))

    expected = {"codersdk.Task", "codersdk.TasksListResponse", "codersdk.TaskLogsResponse"}
    if server.version.has_pause:
        expected |= {"codersdk.PauseTaskResponse", "codersdk.ResumeTaskResponse"}
    assert contract.checked == expected


def test_the_schema_is_not_vacuous(reference: Path) -> None:
    """The checks above would catch the mistakes they are meant to catch."""
    v228 = load_swagger(reference, ga=False)
    ga = load_swagger(reference, ga=True)
    task = {
        "id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a6b",
        "organization_id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a6c",
        "owner_id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a6d",
        "owner_name": "alice",
        "name": "task-1",
        "template_id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a6e",
        "template_version_id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a6f",
        "template_name": "claude-code",
        "template_display_name": "Claude Code",
        "template_icon": "",
        "workspace_id": "7f1c2a9e-3b9d-4a51-9a5e-1c2d3e4f5a70",
        "workspace_name": "task-1",
        "workspace_agent_id": None,
        "workspace_agent_lifecycle": None,
        "workspace_agent_health": None,
        "workspace_app_id": None,
        "initial_prompt": "x",
        "status": "active",
        "current_state": {
            "timestamp": "2025-11-10T09:12:33.123456Z",
            "state": "failure",
            "message": "",
            "uri": "",
        },
        "created_at": "2025-11-10T09:10:01.000001Z",
        "updated_at": "2025-11-10T09:10:01.000001Z",
    }
    old = contract_validator(v228, "codersdk.Task", failure_state=True)
    assert contract_errors(old, task) == []
    assert contract_errors(contract_validator(v228, "codersdk.Task"), task)  # `failure`
    assert contract_errors(old, {**task, "display_name": "X"})  # GA-only field
    assert contract_errors(old, {**task, "status": "running"})
    assert contract_errors(old, {k: v for k, v in task.items() if k != "initial_prompt"})
    assert contract_errors(old, {**task, "workspace_id": {"uuid": task["id"], "valid": True}})
    assert contract_errors(old, {**task, "created_at": "yesterday"})
    new = contract_validator(ga, "codersdk.Task", failure_state=True)
    assert contract_errors(new, task)  # display_name is required on GA
    assert contract_errors(new, {**task, "display_name": "X"}) == []
    # `omitempty`: absent is fine, present-but-empty is not what Go sends.
    health = contract_validator(ga, "codersdk.WorkspaceAgentHealth")
    assert contract_errors(health, {"healthy": True}) == []
    assert contract_errors(health, {"healthy": True, "reason": ""})
    assert contract_errors(health, {"reason": "x"})  # `healthy` has no omitempty
    # Request bodies, for the client's contract tests.
    create = request_definition(ga, "/api/v2/tasks/{user}", "post")
    assert create == "codersdk.CreateTaskRequest"
    body = contract_validator(ga, create, required=False)
    assert contract_errors(body, {"template_version_id": task["id"], "input": "x"}) == []
    assert contract_errors(body, {"template_version_id": "nope", "input": "x"})
    assert contract_errors(body, {"template_id": task["id"]})


#: One property per definition that Go always sends (no `omitempty` in its json tag).
ALWAYS_SENT = {
    "/api/v2/buildinfo": ("deployment_id",),
    "/versions/v2": ("archived",),
    "/api/v2/users/me": ("username",),
    "/tasks/me": ("template_icon",),
    "/pause": ("workspace_build", "template_version_preset_id"),
}


@pytest.mark.parametrize("version", ["2.28.11", "2.29.0", "2.31.1", "2.34.2"])
def test_removing_a_declared_field_from_a_response_fails(
    reference: Path, make_sim: Any, version: str
) -> None:
    """The strict check catches a simulator that leaves out a field Go always sends."""
    server = make_sim(version)
    api = SimApi(server)
    api.http.get("/api/v2/buildinfo")
    api.http.get("/api/v2/users/me")
    api.version_id(version="v2")
    task = api.create_ok("[sim:work=1] contract")
    if server.version.has_pause:
        api.wait_state(task, "idle")
        api.http.post(api.task_path(task, "/pause"))
    caught: set[str] = set()
    for exchange in list(server.exchanges):
        args = {k: exchange[k] for k in ("method", "path", "query", "status", "payload")}
        args["request_body"] = exchange["body"]
        assert exchange_errors(reference, version, **args) == []
        for suffix, key in ALWAYS_SENT.items():
            if not exchange["path"].endswith(suffix) or exchange["status"] >= 300:
                continue
            broken = copy.deepcopy(exchange["payload"])
            holder = broken
            for part in key[:-1]:
                holder = holder[part]
            del holder[key[-1]]
            errors = exchange_errors(reference, version, **{**args, "payload": broken})
            assert any(f"'{key[-1]}' is a required property" in e for e in errors), errors
            caught.add(suffix)
    expected = set(ALWAYS_SENT) - (set() if server.version.has_pause else {"/pause"})
    assert caught == expected
