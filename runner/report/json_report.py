"""`--report results.json`: per task, what was done and how it ended."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from runner.execute.results import ApplyReport, TaskResult
from runner.item import Cost, PullRequest
from runner.money import usd
from runner.render.json_output import named_fields
from runner.report.comparison import compare_models, row_document

REPORT_FORMAT_VERSION = 1


def report_document(
    report: ApplyReport, exit_code: int, *, command_name: str = "apply"
) -> dict[str, Any]:
    """The results as a JSON-ready document (versioned)."""
    return {
        "format": "coder-tasks-results",
        "format_version": REPORT_FORMAT_VERSION,
        "batch": report.batch,
        "server_version": report.server_version,
        "dashboard_url": report.dashboard_url,
        "interrupted": report.interrupted,
        "error": report.stopped.message if report.stopped else None,
        "exit_code": exit_code,
        "summary": {
            **{o: report.count(o_enum) for o, o_enum in _outcomes()},
            "text": report.summary(command_name),
        },
        "cost": _total_document(report),
        "tasks": [task_document(r) for r in report.results],
        "pull_requests": [
            {"name": r.name, "owner": r.owner, **pull_request_document(pr)}
            for r, pr in report.pull_requests
        ],
        # Per model, when the batch's tasks run on more than one; else empty.
        "comparison": [row_document(row) for row in compare_models(report.results)],
    }


def task_document(result: TaskResult) -> dict[str, Any]:
    """One task's record; `clean_up` only for a task with `after:` (what it did, or why not)."""
    document = {
        "name": result.name,
        "owner": result.owner,
        "coder_name": result.coder_name,
        "id": result.task_id,
        "action": result.action,
        "model": result.model or None,
        "outcome": result.outcome.value if result.outcome else None,
        "status": result.status,
        "state": result.state,
        "message": result.message,
        "error": result.error,
        "link": result.link,
        "last_message": result.last_message,
        "pull_request": pull_request_document(result.pull_request) if result.pull_request else None,
        "expectations": [
            {"check": e.check, "want": e.want, "got": e.got, "met": e.met}
            for e in result.expectations
        ],
        "cost": cost_document(result.cost) if result.cost else None,
        "done": list(result.done),
        "follow_ups_sent": result.follow_ups_sent,
        "attempts": result.attempts,
        "timings": {
            "started_at": _iso(result.started_at),
            "wait_started_at": _iso(result.wait_started_at),
            "finished_at": _iso(result.finished_at),
            "duration_seconds": _round(result.duration_seconds),
        },
    }
    if result.clean_up:
        document["clean_up"] = result.clean_up
    return document


def cost_document(cost: Cost) -> dict[str, Any]:
    """What a chat cost (with its sub-agents): US dollars as a decimal string, and micros."""
    return {
        "usd": cost.usd.removeprefix("$"),
        "micros": cost.micros,
        "requests": cost.requests,
        "unpriced_requests": cost.unpriced_requests,
    }


def _total_document(report: ApplyReport) -> dict[str, Any] | None:
    """The batch's known total, and its budget; None when no cost is known."""
    total = report.cost
    budget = report.budget_micros
    if total is None:
        return None
    return {
        **cost_document(total),
        "budget_usd": None if budget is None else usd(budget).removeprefix("$"),
    }


def pull_request_document(pull_request: PullRequest) -> dict[str, Any]:
    """A pull request Coder tracks: URL, state, title, additions and deletions."""
    return named_fields(pull_request, "url", "state", "title", "additions", "deletions")


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _outcomes() -> list[tuple[str, Any]]:
    from runner.execute.results import Outcome

    return [(o.value, o) for o in Outcome]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
