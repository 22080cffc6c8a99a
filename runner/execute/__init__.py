"""Carrying out a plan: the engine, each task's run, and the results they produce."""

from __future__ import annotations

from runner.execute.engine import DEFAULT_PARALLELISM, ExecuteSettings, execute
from runner.execute.results import ApplyReport, Event, Notice, Outcome, TaskResult

__all__ = [
    "DEFAULT_PARALLELISM",
    "ApplyReport",
    "Event",
    "ExecuteSettings",
    "Notice",
    "Outcome",
    "TaskResult",
    "execute",
]
