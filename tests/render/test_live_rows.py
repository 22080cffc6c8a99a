"""A result is a value: it cannot be patched, an event carries it as it was, and the live view
keeps one row per plan index showing the latest value that index was sent."""

from __future__ import annotations

import os
from dataclasses import FrozenInstanceError, replace

import pytest

from runner.execute import Event, Outcome, TaskResult
from runner.report.live import LiveProgress

SIZE = os.terminal_size((120, 40))


def made(name: str = "auth") -> TaskResult:
    return TaskResult(name, "alice", f"{name}-1", "create", status="active", state="working")


def test_a_result_cannot_be_patched() -> None:
    result = made()
    with pytest.raises(FrozenInstanceError):
        result.outcome = Outcome.OK  # type: ignore[misc]
    with pytest.raises(AttributeError):  # what was done is a tuple: no append
        result.done.append("created")  # type: ignore[attr-defined]
    later = replace(result, done=("created",))
    assert result.done == () and later.done == ("created",)


def _rows(block: str) -> list[str]:
    body = block.split("\x1b[J", 1)[1] if block.startswith("\x1b[") else block
    return body.split("\n")


def test_the_live_view_shows_the_latest_value_per_index() -> None:
    drawn: list[str] = []
    view = LiveProgress(drawn.append, interval=0, size=lambda: SIZE)
    first = made()
    view(Event(0, first, "created"))
    view(Event(1, made("docs"), "created"))
    # A second event of item 0 brings a new value (not the object the first event held).
    second = replace(first, state="idle", done=("created", "sent follow-up 1/1"))
    view(Event(0, second, "sent follow-up 1/1", final=True))
    rows = _rows(drawn[-1])
    assert len(rows) == 2, rows  # one row per index, in the order the items first showed
    assert "alice/auth" in rows[0] and "active/idle" in rows[0]
    assert rows[0].endswith("sent follow-up 1/1")
    assert "alice/docs" in rows[1] and "active/working" in rows[1]
    # A status-only event shows the new status and state, and keeps the last thing done.
    view(Event(0, replace(second, status="paused", state=""), "", status_only=True, final=True))
    rows = _rows(drawn[-1])
    assert len(rows) == 2 and "paused" in rows[0] and rows[0].endswith("sent follow-up 1/1")


def test_two_items_with_equal_results_keep_a_row_each() -> None:
    drawn: list[str] = []
    view = LiveProgress(drawn.append, interval=0, size=lambda: SIZE)
    same = made()
    view(Event(0, same, "created"))
    view(Event(1, same, "created", final=True))
    assert len(_rows(drawn[-1])) == 2
