"""The final per-task result table and the plain one-line-per-event progress text."""

from __future__ import annotations

from runner.execute.results import ApplyReport, Event, TaskResult
from runner.render.safe_text import safe_line
from runner.render.table import render_table
from runner.report.comparison import HEADERS, cells, compare_models


def result_table(report: ApplyReport) -> str:
    """One row per task: name, owner, outcome, status, state, what was done, message; and its
    cost, where the server keeps one."""
    headers = ["name", "owner", "outcome", "status", "state", "done", "message"]
    rows = [_row(r) for r in report.results]
    if report.cost is not None:
        headers.insert(3, "cost")
        for row, result in zip(rows, report.results, strict=True):
            row.insert(3, result.cost.usd if result.cost else "-")
    # Not one of Coder's tables: no trailing padding to keep parity with.
    return render_table(headers, rows, trailing_padding=False)


def pull_request_lines(report: ApplyReport) -> list[str]:
    """`Pull requests opened by the agents:` and one line per pull request; none, nothing."""
    found = report.pull_requests
    if not found:
        return []
    lines = [f"Pull requests opened by the agents ({len(found)}):"]
    # Titles and URLs are the server's text: control characters are shown, not acted on.
    lines.extend(safe_line(f"  {r.owner}/{r.name}: {pr.one_line()}") for r, pr in found)
    return lines


def comparison_lines(report: ApplyReport) -> list[str]:
    """`Models compared:` and a table of one row per model; nothing unless tasks ran on two
    or more models."""
    rows = compare_models(report.results)
    if not rows:
        return []
    table = render_table(HEADERS, [cells(row) for row in rows], trailing_padding=False)
    return ["Models compared:", table]


def event_line(event: Event) -> str:
    """`[owner/name] text`: the plain progress line for one event, control characters shown."""
    result = event.result
    return safe_line(f"[{result.owner}/{result.name}] {event.text}")


def _row(result: TaskResult) -> list[str]:
    message = result.error or result.last_message or result.message
    if len(message) > 60:
        message = message[:59] + "…"
    outcome = result.outcome.value if result.outcome else "unfinished"
    if result.attempts > 1:
        outcome += f" ({result.attempts} attempts)"
    return [
        result.name,
        result.owner,
        outcome,
        result.status or "-",
        result.state or "-",
        "; ".join(result.done) or "-",
        message.replace("\n", " ") or "-",
    ]
