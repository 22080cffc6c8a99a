"""When a log snapshot may count delivered follow-ups: only when it starts with the prompt."""

from __future__ import annotations

from typing import Any

import pytest

from runner.backends.tasks import starts_with_prompt
from runner.coder.models import TaskLogs

from .helpers import owned_task


def logs(*entries: tuple[int, str, str], snapshot: bool = True) -> TaskLogs:
    items: list[dict[str, Any]] = [
        {"id": n, "content": c, "type": t, "time": "2026-01-01T00:00:00Z"} for n, c, t in entries
    ]
    return TaskLogs.from_json({"logs": items, "snapshot": snapshot})


TASK = owned_task("nightly", "a", "Build it")


@pytest.mark.parametrize(
    ("snapshot", "whole"),
    [
        (logs((0, "Build it", "input"), (1, "ok", "output"), (2, "F1", "input")), True),
        (logs((0, " Build it\n", "input")), True),
        (logs(), False),  # none captured
        (logs((2, "F1", "input"), (3, "ok", "output")), False),  # the 64 KiB cap cut the start
        (logs((0, "Something else", "input")), False),
        (logs((0, "Build it", "output")), False),
    ],
)
def test_snapshot_vouches_for_delivery_only_from_the_prompt(
    snapshot: TaskLogs, whole: bool
) -> None:
    assert starts_with_prompt(snapshot, TASK.initial_prompt) is whole
