"""A thin httpx wrapper for talking to the simulator in tests, per API generation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from runner.sim.server import SimServer

NOT_FOUND = "Resource not found or you do not have access to this resource"


class SimApi:
    """Requests as one of the simulator's users, on the task routes its version serves."""

    def __init__(
        self, server: SimServer, user: str = "admin", step: Callable[[], None] | None = None
    ) -> None:
        self.server = server
        #: What `wait` does between two looks: sleep a little, or move a stepped clock on.
        self.step = step or (lambda: time.sleep(0.01))
        self.base = "/api/v2" if server.version.is_ga else "/api/experimental"
        self.http = httpx.Client(
            base_url=server.url,
            headers={"Coder-Session-Token": server.tokens[user]},
            timeout=10,
        )

    def version_id(
        self, org: str = "coder", template: str = "claude-code", version: str = ""
    ) -> str:
        path = f"/api/v2/organizations/{org}/templates/{template}"
        if version:
            return str(self.http.get(f"{path}/versions/{version}").json()["id"])
        return str(self.http.get(path).json()["active_version_id"])

    def create(
        self, prompt: str = "Add tests", *, owner: str = "me", **fields: Any
    ) -> httpx.Response:
        body = {"template_version_id": self.version_id(), "input": prompt, **fields}
        return self.http.post(f"{self.base}/tasks/{owner}", json=body)

    def create_ok(self, prompt: str = "Add tests", **fields: Any) -> dict[str, Any]:
        response = self.create(prompt, **fields)
        assert response.status_code == 201, response.text
        task: dict[str, Any] = response.json()
        return task

    def task_path(self, task: dict[str, Any], suffix: str = "") -> str:
        return f"{self.base}/tasks/me/{task['id']}{suffix}"

    def get(self, task: dict[str, Any]) -> dict[str, Any]:
        response = self.http.get(self.task_path(task))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def send(self, task: dict[str, Any], text: str) -> httpx.Response:
        return self.http.post(self.task_path(task, "/send"), json={"input": text})

    def logs(self, task: dict[str, Any]) -> httpx.Response:
        return self.http.get(self.task_path(task, "/logs"))

    def wait(
        self,
        task: dict[str, Any],
        until: Callable[[dict[str, Any]], bool],
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Poll the task until `until(task)` holds, stepping between polls; fail the test after
        `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        current = self.get(task)
        while not until(current):
            assert time.monotonic() < deadline, f"timed out; last seen: {current}"
            self.step()
            current = self.get(task)
        return current

    def wait_state(self, task: dict[str, Any], state: str) -> dict[str, Any]:
        return self.wait(
            task,
            lambda t: (
                t["status"] == "active"
                and t["current_state"] is not None
                and t["current_state"]["state"] == state
                # not the short idle report between two steps of work
                and t["current_state"]["message"] != "Waiting for the next step"
            ),
        )


def state_of(task: dict[str, Any]) -> str | None:
    current = task["current_state"]
    return None if current is None else str(current["state"])
