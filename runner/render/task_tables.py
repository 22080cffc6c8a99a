"""The columns of Coder's task tables (`list`, `status`) and log table (`logs`), and their cells.

Column names and their order are Coder's; `-c` picks some of them, in the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from runner.coder.models import LogEntry, Task
from runner.render.table import render_table
from runner.render.times import ago, rfc3339

#: Every column of `list`, in Coder's order. `display name` exists on GA servers only; on
#: v2.28 the column renders blank.
TASK_COLUMNS = (
    "id",
    "organization id",
    "owner id",
    "owner name",
    "owner avatar url",
    "name",
    "display name",
    "template id",
    "template version id",
    "template name",
    "template display name",
    "template icon",
    "workspace id",
    "workspace name",
    "workspace status",
    "workspace build number",
    "workspace agent id",
    "workspace agent lifecycle",
    "workspace agent health",
    "workspace app id",
    "initial prompt",
    "status",
    "state",
    "message",
    "created at",
    "updated at",
    "state changed",
)
LIST_DEFAULT_COLUMNS = ("name", "status", "state", "state changed", "message")

#: `status` adds `healthy` after the list columns.
STATUS_COLUMNS = (*TASK_COLUMNS, "healthy")
STATUS_DEFAULT_COLUMNS = ("state changed", "status", "healthy", "state", "message")

LOG_COLUMNS = ("id", "content", "type", "time")
LOG_DEFAULT_COLUMNS = ("type", "content")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _health(raw: Mapping[str, Any]) -> str:
    health = raw.get("workspace_agent_health")
    if not isinstance(health, Mapping):
        return ""
    healthy = _text(health.get("healthy"))
    reason = health.get("reason")
    return f"{healthy}: {reason}" if reason else healthy


def _raw_field(key: str) -> Callable[[Task], str]:
    return lambda task: _text(task.raw.get(key))


_TASK_CELLS: dict[str, Callable[[Task], str]] = {
    column: _raw_field(column.replace(" ", "_"))
    for column in TASK_COLUMNS
    if column not in ("state", "message", "created at", "updated at", "state changed")
}
_TASK_CELLS.update(
    {
        "workspace agent health": lambda task: _health(task.raw),
        # The model reads `display_name` only where the server's generation has it (GA).
        "display name": lambda task: task.display_name or "",
        # Omitted from the JSON when 0; Go's table still shows the zero.
        "workspace build number": lambda task: str(task.workspace_build_number),
        "state": lambda task: task.current_state.state if task.current_state else "",
        "message": lambda task: task.message,
        "created at": lambda task: rfc3339(task.created_at),
        "updated at": lambda task: rfc3339(task.updated_at),
        "healthy": lambda task: _text(task.healthy),
    }
)


def state_changed(task: Task, now: datetime, *, fall_back_to_updated: bool) -> str:
    """Time since the agent's last report; `status` falls back to `updated_at`, `list` does not."""
    if task.current_state is not None and task.current_state.timestamp is not None:
        return ago(task.current_state.timestamp, now)
    if fall_back_to_updated and task.updated_at is not None:
        return ago(task.updated_at, now)
    return ""


def task_row(
    task: Task, columns: Sequence[str], now: datetime, *, fall_back_to_updated: bool
) -> list[str]:
    """The cells of one task for `columns`."""
    return [
        state_changed(task, now, fall_back_to_updated=fall_back_to_updated)
        if column == "state changed"
        else _TASK_CELLS[column](task)
        for column in columns
    ]


def task_table(
    tasks: Sequence[Task], columns: Sequence[str], now: datetime, *, fall_back_to_updated: bool
) -> str:
    """Coder's task table: rows sorted by name when the name column is shown."""
    rows = [task_row(t, columns, now, fall_back_to_updated=fall_back_to_updated) for t in tasks]
    return render_table(columns, rows, sort_by="name")


def log_table(entries: Sequence[LogEntry], columns: Sequence[str]) -> str:
    """Coder's log table: rows sorted by time when the time column is shown."""
    cells: dict[str, Callable[[LogEntry], str]] = {
        "id": lambda e: str(e.id),
        "content": lambda e: e.content,
        "type": lambda e: e.type,
        "time": lambda e: rfc3339(e.time),
    }
    rows = [[cells[c](entry) for c in columns] for entry in entries]
    return render_table(columns, rows, sort_by="time")
