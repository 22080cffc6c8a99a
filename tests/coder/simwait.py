"""Waiting on simulated tasks in client tests, with real (scaled) time."""

from __future__ import annotations

import time

from runner.coder.client import CoderClient
from runner.coder.models import Task

#: Agents report `idle` for a moment between two steps; idle only counts once it held this long
#: (seconds of real time; many simulated seconds at the test time scale).
IDLE_HOLD_SECONDS = 0.15


def wait_status(client: CoderClient, task: Task, status: str, *, timeout: float = 20) -> Task:
    """Poll until the task has `status`."""
    deadline = time.monotonic() + timeout
    while True:
        current = client.get_task(task.id)
        if current.status == status:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task.name} never became {status}: {current.status}")
        time.sleep(0.02)


def wait_idle(client: CoderClient, task: Task, *, timeout: float = 20) -> Task:
    """Poll until the task is active and its agent has stayed idle for IDLE_HOLD_SECONDS."""
    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    while True:
        current = client.get_task(task.id)
        now = time.monotonic()
        if current.status == "active" and current.state == "idle":
            idle_since = idle_since if idle_since is not None else now
            if now - idle_since >= IDLE_HOLD_SECONDS:
                return current
        else:
            idle_since = None
        if now > deadline:
            raise AssertionError(f"task {task.name} never settled idle: {current.status}")
        time.sleep(0.02)
