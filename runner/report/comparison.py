"""The model comparison a batch ends with when its tasks run on more than one model.

A matrix over `model` runs the same work on several models; the comparison puts their results
side by side, one row per model: tasks, ok and failed, median duration, total cost, pull requests
opened and the lines they add and remove. Rows are computed here from the results alone (a pure
function); the terminal, the JSON report and the step summary render the same rows.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from runner.durations import format_seconds
from runner.execute.results import Outcome, TaskResult
from runner.money import usd

#: Outcomes counted as ok: converged (or unchanged since), expectations met.
OK_OUTCOMES = frozenset({Outcome.OK, Outcome.UNCHANGED})
#: Outcomes counted as failed; the rest (interrupted, unknown, drifted) are neither.
FAILED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.BLOCKED, Outcome.TIMEOUT})
#: How a task that names no model is shown: the deployment's default ran it.
DEFAULT_MODEL = "(default)"
HEADERS = ("model", "tasks", "ok", "failed", "median", "cost", "prs", "added", "removed")


@dataclass(frozen=True)
class ModelRow:
    """One model's results."""

    model: str  # as the results name it; "" for the deployment's default
    tasks: int
    ok: int
    failed: int
    median_seconds: float | None  # of the tasks whose run was timed; None when none was
    cost_micros: int | None  # the known costs' sum (USD micros); None when none is known
    cost_unknown: int  # tasks whose cost is not known
    pull_requests: int
    additions: int
    deletions: int


def compare_models(results: Sequence[TaskResult]) -> list[ModelRow]:
    """One row per model, in the order the models first appear; no rows unless the batch's
    tasks name at least two models (what a prune deletes belongs to no task, so to no model)."""
    by_model: dict[str, list[TaskResult]] = {}
    for result in results:
        if result.action != "delete":
            by_model.setdefault(result.model, []).append(result)
    if len(by_model) < 2:
        return []
    return [_row(model, group) for model, group in by_model.items()]


def _row(model: str, group: Sequence[TaskResult]) -> ModelRow:
    durations = [d for d in (r.duration_seconds for r in group) if d is not None]
    costs = [r.cost.micros for r in group if r.cost is not None]
    pull_requests = [r.pull_request for r in group if r.pull_request is not None]
    return ModelRow(
        model=model,
        tasks=len(group),
        ok=sum(1 for r in group if r.outcome in OK_OUTCOMES),
        failed=sum(1 for r in group if r.outcome in FAILED_OUTCOMES),
        median_seconds=statistics.median(durations) if durations else None,
        cost_micros=sum(costs) if costs else None,
        cost_unknown=len(group) - len(costs),
        pull_requests=len(pull_requests),
        additions=sum(pr.additions for pr in pull_requests),
        deletions=sum(pr.deletions for pr in pull_requests),
    )


def cells(row: ModelRow) -> list[str]:
    """`row` as text, in `HEADERS` order; what is not known is `-`."""
    return [
        row.model or DEFAULT_MODEL,
        str(row.tasks),
        str(row.ok),
        str(row.failed),
        _duration(row.median_seconds),
        _usd(row.cost_micros, row.cost_unknown),
        str(row.pull_requests),
        f"+{row.additions}",
        f"-{row.deletions}",
    ]


def row_document(row: ModelRow) -> dict[str, object]:
    """`row` for the JSON report: numbers as numbers, unknowns as null."""
    return {
        "model": row.model or None,
        "tasks": row.tasks,
        "ok": row.ok,
        "failed": row.failed,
        "median_seconds": None if row.median_seconds is None else round(row.median_seconds, 3),
        "cost_micros": row.cost_micros,
        "cost_unknown": row.cost_unknown,
        "pull_requests": row.pull_requests,
        "additions": row.additions,
        "deletions": row.deletions,
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return format_seconds(round(seconds) if seconds >= 1 else round(seconds, 3))


def _usd(micros: int | None, unknown: int) -> str:
    """`$1.25`; `-` when no cost is known, and a `+` when only some are (a lower bound)."""
    if micros is None:
        return "-"
    return usd(micros) + ("+" if unknown else "")
