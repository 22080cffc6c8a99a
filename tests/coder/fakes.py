"""A fake transport for client unit tests: contract-shaped responses, every request recorded.

This is an `httpx.MockTransport` handler, not a patch of the client: the client runs unchanged
and only the bytes on the wire are made up here. Scripted replies (`script`) take priority over
the default routes, so a test can make any request fail in any way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from runner.coder.client import CoderClient
from runner.coder.config import Connection

TOKEN = "fakeid-0123456789abcdefsecret"
NOT_FOUND = {"message": "Resource not found or you do not have access to this resource"}

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def make_task(name: str, *, owner: str = "alice", task_id: str | None = None) -> dict[str, Any]:
    """A Task object as v2.28 sends it (CONTRACT 1.1), abbreviated ids made real."""
    return {
        "id": task_id or str(uuid.uuid4()),
        "organization_id": str(uuid.uuid4()),
        "owner_id": str(uuid.uuid4()),
        "owner_name": owner,
        "name": name,
        "template_id": str(uuid.uuid4()),
        "template_version_id": str(uuid.uuid4()),
        "template_name": "claude-code",
        "template_display_name": "Claude Code",
        "template_icon": "/icon/claude.svg",
        "workspace_id": str(uuid.uuid4()),
        "workspace_name": name,
        "workspace_status": "running",
        "workspace_build_number": 1,
        "workspace_agent_id": None,
        "workspace_agent_lifecycle": None,
        "workspace_agent_health": None,
        "workspace_app_id": None,
        "initial_prompt": "Add authentication",
        "status": "active",
        "current_state": None,
        "created_at": "2025-11-10T09:10:01.000001Z",
        "updated_at": "2025-11-10T09:10:01.000001Z",
    }


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response with Coder's JSON content type."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


@dataclass
class FakeCoder:
    """A minimal deployment: buildinfo, a task list, and scripted replies."""

    version: str = "v2.34.2+abc1234"
    tasks: list[dict[str, Any]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    script: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return (
            "/api/experimental/tasks"
            if self.version.lstrip("v").startswith("2.28")
            else ("/api/v2/tasks")
        )

    def on(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to `method path` with `replies`, in order."""
        self.script.setdefault((method, path), []).extend(replies)

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        """Recorded requests, optionally only those to one method and path."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self.script.get((request.method, request.url.path))
        if queued:
            reply = queued.pop(0)
            if isinstance(reply, Exception):
                raise reply
            if callable(reply):
                return reply(request)
            return reply
        return self.route(request)

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v2/buildinfo":
            return json_response(200, {"version": self.version, "dashboard_url": "http://x"})
        if path == self.base and request.method == "GET":
            return json_response(200, {"tasks": self.tasks, "count": len(self.tasks)})
        if path.startswith(self.base + "/") and request.method == "GET":
            parts = path[len(self.base) + 1 :].split("/")
            if len(parts) == 2:
                for task in self.tasks:
                    if parts[1] == task["id"] or (
                        self.base == "/api/v2/tasks" and parts[1].lower() == task["name"].lower()
                    ):
                        return json_response(200, task)
                return json_response(404, NOT_FOUND)
        return json_response(404, {"message": "Route not found."})

    def client(self, **kwargs: Any) -> CoderClient:
        """A real CoderClient whose transport is this fake; sleeping is recorded, not done."""
        kwargs.setdefault("sleep", lambda seconds: None)
        kwargs.setdefault("jitter", lambda: 1.0)
        connection = Connection(url="https://coder.example.com", token=TOKEN)
        return CoderClient(connection, transport=httpx.MockTransport(self.handler), **kwargs)
