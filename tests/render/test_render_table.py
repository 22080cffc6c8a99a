"""Coder's cliui table layout: upper-case headers, every cell padded by two, sorting by a column."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from runner.coder.models import LogEntry, Task
from runner.render.table import display_width, render_table
from runner.render.task_tables import (
    LIST_DEFAULT_COLUMNS,
    STATUS_DEFAULT_COLUMNS,
    TASK_COLUMNS,
    log_table,
    task_table,
)

NOW = datetime(2025, 11, 10, 9, 13, 15, tzinfo=timezone.utc)


def test_every_cell_is_padded_including_the_last_column() -> None:
    text = render_table(["type", "content"], [["input", "What is 1 + 1?"], ["output", "2"]])
    assert text.split("\n") == [
        "TYPE    CONTENT         ",
        "input   What is 1 + 1?  ",
        "output  2               ",
    ]


def test_rows_are_sorted_by_the_sort_column_only_when_it_is_shown() -> None:
    rows = [["b", "1"], ["a", "2"]]
    assert render_table(["name", "x"], rows, sort_by="name").split("\n")[1].startswith("a")
    assert (
        render_table(["x", "name"], [r[::-1] for r in rows], sort_by="time")
        .split("\n")[1]
        .startswith("1")
    )


def test_multi_line_cells_span_lines_and_keep_columns_aligned() -> None:
    text = render_table(["a", "b"], [["x", "line one\nline two"], ["yy", "z"]])
    assert text.split("\n") == [
        "A   B         ",
        "x   line one  ",
        "    line two  ",
        "yy  z         ",
    ]


def test_wide_characters_count_two_columns() -> None:
    assert display_width("日本") == 4
    text = render_table(["c"], [["日本"], ["a"]])
    assert text.split("\n") == ["C     ", "日本  ", "a     "]


def _task(name: str, **extra: Any) -> Task:
    data: dict[str, Any] = {
        "id": f"id-{name}",
        "owner_name": "alice",
        "name": name,
        "status": "active",
        "workspace_build_number": 3,
        "workspace_agent_lifecycle": "ready",
        "workspace_agent_health": {"healthy": True},
        "current_state": None,
        "created_at": "2025-11-10T09:10:01.000001Z",
        "updated_at": "2025-11-10T09:12:01.5Z",
    }
    data.update(extra)
    return Task.from_json(data)


def test_list_table_sorts_by_name_and_leaves_state_changed_blank_without_a_state() -> None:
    working = {
        "timestamp": (NOW - timedelta(seconds=42)).isoformat(),
        "state": "working",
        "message": "Reading the auth module",
        "uri": "",
    }
    tasks = [_task("zeta", current_state=working), _task("alpha")]
    lines = task_table(tasks, LIST_DEFAULT_COLUMNS, NOW, fall_back_to_updated=False).split("\n")
    assert lines[0].split() == ["NAME", "STATUS", "STATE", "STATE", "CHANGED", "MESSAGE"]
    assert lines[1].split() == ["alpha", "active"]
    assert lines[2].split() == [
        "zeta",
        "active",
        "working",
        "42s",
        "ago",
        "Reading",
        "the",
        "auth",
        "module",
    ]


def test_status_table_falls_back_to_updated_at_and_shows_healthy() -> None:
    table = task_table([_task("t")], STATUS_DEFAULT_COLUMNS, NOW, fall_back_to_updated=True)
    assert table.split("\n") == [
        "STATE CHANGED  STATUS  HEALTHY  STATE  MESSAGE  ",
        "1m13s ago      active  true                     ",
    ]


def test_columns_follow_the_order_asked_for_and_times_are_rfc3339() -> None:
    table = task_table(
        [_task("t")],
        ["created at", "name", "workspace build number", "workspace agent health"],
        NOW,
        fall_back_to_updated=False,
    )
    header, row = table.split("\n")
    assert header.split("  ")[0] == "CREATED AT"
    assert row.split() == ["2025-11-10T09:10:01Z", "t", "3", "true"]


def test_every_task_column_renders_without_error_even_for_v228_tasks() -> None:
    table = task_table([_task("t")], TASK_COLUMNS, NOW, fall_back_to_updated=False)
    header = table.split("\n")[0]
    assert "DISPLAY NAME" in header and "STATE CHANGED" in header


def test_log_table_sorts_by_time_when_time_is_shown() -> None:
    entries = [
        LogEntry.from_json(
            {"id": 1, "content": "late", "type": "output", "time": "2025-09-25T10:46:50Z"}
        ),
        LogEntry.from_json(
            {"id": 0, "content": "early", "type": "input", "time": "2025-09-25T10:46:42Z"}
        ),
    ]
    assert log_table(entries, ["type", "content"]).split("\n")[1].startswith("output")
    timed = log_table(entries, ["id", "time", "content"]).split("\n")
    assert timed[1].split() == ["0", "2025-09-25T10:46:42Z", "early"]
