"""Polling waits the imperative commands share: a task becoming ready, idle, paused or running.

Each wait polls `GET …/tasks/me/<id>` (one request per interval) and ends with a TasksError when
the task takes a turn that means it will not get there.
"""

from __future__ import annotations

import time

from runner.coder.client import CoderClient
from runner.coder.models import Task
from runner.errors import TasksError
from runner.readiness import Readiness, ReadinessTracker

#: Coder's CLI tolerates `error` this long while a task starts: it shows up in healthy startups.
ERROR_GRACE_SECONDS = 300.0


def wait_until_active(client: CoderClient, task: Task, interval: float) -> Task:
    """Poll until the task is `active`; `unknown` or `paused` (or a lasting `error`) fail."""
    deadline = time.monotonic() + ERROR_GRACE_SECONDS
    while task.status != "active":
        if task.status == "unknown" or (task.status == "error" and time.monotonic() > deadline):
            raise TasksError(
                f"task entered {task.status} state while waiting for it to become active"
            )
        if task.status == "paused":
            raise TasksError("task was paused while waiting for it to become active")
        time.sleep(interval)
        task = client.get_task(task.id)
    return task


def wait_until_idle(client: CoderClient, task: Task, interval: float) -> Task:
    """Poll until the agent is idle, complete or failed (or silent 30 s), as Coder's send does.

    `error` is tolerated for a grace period (it shows up in healthy startups); `paused`,
    `unknown`, or a task that went back to starting, end the wait with an error.
    """
    tracker = ReadinessTracker(idle_grace=0.0)
    deadline = time.monotonic() + ERROR_GRACE_SECONDS
    while True:
        readiness = tracker.observe(task, time.monotonic())
        if readiness in (Readiness.IDLE, Readiness.COMPLETE, Readiness.FAILED):
            return task
        if readiness is Readiness.PAUSED:
            raise TasksError("task was paused while waiting for it to become idle")
        if task.status == "unknown" or (task.status == "error" and time.monotonic() > deadline):
            raise TasksError(
                f"task entered {task.status} state while waiting for it to become idle"
            )
        if task.status not in ("active", "error"):
            raise TasksError(
                f"task entered unexpected state ({task.status}) while waiting for it to become idle"
            )
        time.sleep(interval)
        task = client.get_task(task.id)


def wait_for_workspace(client: CoderClient, task: Task, wanted: str, interval: float) -> Task:
    """Poll until the task's workspace reaches `wanted` (`running` or `stopped`)."""
    while task.workspace_status != wanted:
        if task.status == "error" or task.workspace_status in ("failed", "canceled"):
            raise TasksError(
                f"workspace build failed (task status {task.status}, "
                f"workspace {task.workspace_status or 'unknown'})"
            )
        time.sleep(interval)
        task = client.get_task(task.id)
    return task
