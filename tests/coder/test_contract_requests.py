"""The client's requests checked against Coder's swagger subsets (CONTRACT section 11).

The client talks to the simulator over real HTTP through a transport that records every request
on its way out. Each request must hit a documented path and method of its server's generation
(all four subsets), carry only documented query parameters (plus the template list's `q`,
CONTRACT 1.6), and send a body that validates against the documented request definition
with no extra fields (so GA-only fields never reach a v2.28 server).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from contract_schema import (
    CONTRACT_QUERY,
    contract_errors,
    contract_validator,
    documented_operation,
    load_swagger,
    request_definition,
)

from runner.coder.client import CoderClient
from runner.coder.config import Connection

from .simwait import wait_idle, wait_status


class RecordingTransport(httpx.BaseTransport):
    """Real HTTP, with every request kept for inspection."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def exercise(client: CoderClient) -> None:
    """Every task operation the client has, on whatever generation the server runs."""
    version = client.get_template_version("coder", "claude-code", "v2")
    presets = client.presets(version.id)
    task = client.create_task(
        owner="me",
        template_version_id=version.id,
        prompt="Add auth [sim:work=1]",
        name="contract",
        preset_id=presets[-1].id,
        display_name="Contract check",
    )
    client.create_task(owner="admin", template_version_id=version.id, prompt="Plain [sim:work=1]")
    client.list_tasks(owner=None)
    client.list_tasks(owner="me", status="active", organization="coder")
    client.resolve_task("contract")
    client.resolve_task("admin/contract")
    client.resolve_task(task.id)
    wait_idle(client, task)
    client.send_input(task, "More [sim:work=1]")
    client.get_logs(task)
    if client.server.supports_pause:
        wait_idle(client, task)
        client.pause_task(task)
        wait_status(client, task, "paused")
        client.update_input(task, "Changed while paused")
        client.resume_task(task)
        wait_status(client, task, "active")
    client.delete_task(client.resolve_task("admin/contract"))


@pytest.mark.parametrize("version", ["2.28.11", "2.29.0", "2.31.1", "2.34.2"])
def test_task_requests_match_the_swagger(make_sim: Any, reference: Path, version: str) -> None:
    sim = make_sim(version)
    recorder = RecordingTransport()
    client = CoderClient(Connection(url=sim.url, token=sim.token), transport=recorder)
    try:
        exercise(client)
    finally:
        client.close()
    swagger = load_swagger(reference, version=version)
    base = client.server.task_base
    checked: set[str] = set()
    for request in recorder.requests:
        path = request.url.path  # every route the client calls, not only the task routes
        found = documented_operation(swagger, request.method, path)
        assert found is not None, f"{request.method} {path} is not a documented operation"
        template, operation = found
        if path.startswith(base):
            checked.add(f"{request.method} {template}")
        allowed_query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        allowed_query |= CONTRACT_QUERY.get(template, set())
        assert set(request.url.params.keys()) <= allowed_query, f"{request.method} {path}"
        if request.content:
            definition = request_definition(swagger, template, request.method)
            validator = contract_validator(swagger, definition, strict=True, required=False)
            body = json.loads(request.content)
            assert contract_errors(validator, body) == [], f"{request.method} {path}: {body}"
            if definition == "codersdk.CreateTaskRequest":
                assert "template_version_id" in body and "input" in body
        else:
            has_body = any(p["in"] == "body" for p in operation.get("parameters", []))
            assert not has_body, f"{request.method} {path} must send a body"
    expected = {
        f"GET {base}",
        f"POST {base}/{{user}}",
        f"GET {base}/{{user}}/{{task}}",
        f"POST {base}/{{user}}/{{task}}/send",
        f"GET {base}/{{user}}/{{task}}/logs",
        f"DELETE {base}/{{user}}/{{task}}",
    }
    if client.server.supports_pause:
        expected |= {
            f"PATCH {base}/{{user}}/{{task}}/input",
            f"POST {base}/{{user}}/{{task}}/pause",
            f"POST {base}/{{user}}/{{task}}/resume",
        }
    assert checked == expected


def test_v2_28_create_body_has_no_ga_fields(make_sim: Any, reference: Path) -> None:
    recorder = RecordingTransport()
    server = make_sim("2.28.11")
    with CoderClient(Connection(url=server.url, token=server.token), transport=recorder) as c:
        version = c.get_template_version("coder", "claude-code", "v1")
        c.create_task(
            owner="me", template_version_id=version.id, prompt="x", display_name="Shown on GA"
        )
    (create,) = [r for r in recorder.requests if r.method == "POST"]
    body = json.loads(create.content)
    assert "display_name" not in body
    swagger = load_swagger(reference, ga=False)
    validator = contract_validator(
        swagger, "codersdk.CreateTaskRequest", strict=True, required=False
    )
    assert contract_errors(validator, body) == []
    # The same validator rejects a GA-only field, so the check above could fail.
    assert contract_errors(validator, {**body, "display_name": "x"}) != []


@pytest.mark.parametrize("ga", [False, True])
def test_send_request_definition(ga: bool, reference: Path) -> None:
    swagger = load_swagger(reference, ga=ga)
    base = "/api/v2/tasks" if ga else "/api/experimental/tasks"
    definition = request_definition(swagger, f"{base}/{{user}}/{{task}}/send", "POST")
    assert definition == "codersdk.TaskSendRequest"
    validator = contract_validator(swagger, definition, strict=True, required=False)
    assert contract_errors(validator, {"input": "hello"}) == []
    assert contract_errors(validator, {"content": "hello"}) != []
