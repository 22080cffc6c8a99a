"""The Markdown summary appended to `$GITHUB_STEP_SUMMARY`: a table with dashboard links."""

from __future__ import annotations

from runner.execute.results import ApplyReport, Outcome, PullRequest, TaskResult
from runner.render.safe_text import safe_text

_ICONS = {
    Outcome.OK: "✅",
    Outcome.DELETED: "🗑️",
    Outcome.UNCHANGED: "➖",
    Outcome.DRIFTED: "⚠️",
    Outcome.BLOCKED: "⛔",
    Outcome.FAILED: "❌",
    Outcome.TIMEOUT: "⏱️",
    Outcome.INTERRUPTED: "⏹️",
    Outcome.UNKNOWN: "❔",
}


def markdown_summary(report: ApplyReport, *, command_name: str = "apply") -> str:
    """A heading, the summary line and one table row per task (each linked to the dashboard)."""
    lines = [
        f"### tasks {command_name}: `{_escape(report.batch)}`",
        "",
        report.summary(command_name) + (" (interrupted)" if report.interrupted else ""),
        "",
    ]
    if report.stopped is not None:
        lines.extend([f"**Error:** {_escape(report.stopped.message)}", ""])
    lines += [
        "| | Task | Owner | Outcome | Status | State | Done | Message |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(_row(r) for r in report.results)
    if report.pull_requests:
        lines.extend(["", "#### Pull requests", ""])
        lines.extend(_pull_request_line(r, pr) for r, pr in report.pull_requests)
    if report.server_version:
        lines.extend(["", f"Coder {report.server_version} at {report.dashboard_url}"])
    # GitHub renders the summary, but a terminal may show the file too: controls stay inert.
    return safe_text("\n".join(lines)) + "\n"


def _row(result: TaskResult) -> str:
    outcome = result.outcome
    icon = _ICONS.get(outcome, "…") if outcome else "…"
    name = _escape(result.name)
    task = f"[{name}]({result.link})" if result.link else name
    message = result.error or result.last_message or result.message
    cells = [
        icon,
        task,
        _escape(result.owner),
        outcome.value if outcome else "unfinished",
        _escape(result.status) or "-",
        _escape(result.state) or "-",
        _escape("; ".join(result.done)) or "-",
        _escape(message) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _pull_request_line(result: TaskResult, pull_request: PullRequest) -> str:
    """`- [title](url) open, +12 −3 (auth)`."""
    title = _escape(pull_request.title) or pull_request.url
    state = f"{pull_request.state}, " if pull_request.state else ""
    counts = f"+{pull_request.additions} −{pull_request.deletions}"
    return f"- [{_link_text(title)}]({pull_request.url}) {state}{counts} ({_escape(result.name)})"


def _link_text(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()
