"""The Markdown summary appended to `$GITHUB_STEP_SUMMARY`: a table with dashboard links."""

from __future__ import annotations

import re
from urllib.parse import quote

from runner.execute.results import ApplyReport, Outcome, TaskResult
from runner.item import PullRequest
from runner.render.safe_text import safe_text
from runner.report.comparison import HEADERS, cells, compare_models

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
    Outcome.SKIPPED: "⏭️",
}


def markdown_summary(report: ApplyReport, *, command_name: str = "apply") -> str:
    """A heading, the summary line and one table row per task (each linked to the dashboard)."""
    lines = [
        f"### tasks {command_name}: {_code(report.batch)}",
        "",
        report.summary(command_name) + (" (interrupted)" if report.interrupted else ""),
        "",
    ]
    cost = report.cost_line()
    if cost:
        lines.extend([cost, ""])
    if report.stopped is not None:
        lines.extend([f"**Error:** {_escape(report.stopped.message)}", ""])
    costs = report.cost is not None  # a column only where the server keeps cost
    lines += [
        "| | Task | Owner | Outcome |"
        + (" Cost |" if costs else "")
        + " Status | State | Done | Message |",
        "|---|---|---|---|" + ("---|" if costs else "") + "---|---|---|---|",
    ]
    lines.extend(_row(r, costs) for r in report.results)
    if report.pull_requests:
        lines.extend(["", "#### Pull requests", ""])
        lines.extend(_pull_request_line(r, pr) for r, pr in report.pull_requests)
    lines.extend(_comparison(report))
    if report.server_version:
        lines.extend(["", f"Coder {report.server_version} at {report.dashboard_url}"])
    # GitHub renders the summary, but a terminal may show the file too: controls stay inert.
    return safe_text("\n".join(lines)) + "\n"


def _row(result: TaskResult, costs: bool) -> str:
    outcome = result.outcome
    icon = _ICONS.get(outcome, "…") if outcome else "…"
    message = result.error or result.last_message or result.message
    cells = [
        icon,
        _link(result.name, result.link),
        _escape(result.owner),
        outcome.value if outcome else "unfinished",
        *([result.cost.usd if result.cost else "-"] if costs else []),
        _escape(result.status) or "-",
        _escape(result.state) or "-",
        _escape("; ".join(result.done)) or "-",
        _escape(message) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _comparison(report: ApplyReport) -> list[str]:
    """`#### Models` and a table of one row per model, when tasks ran on two or more."""
    rows = compare_models(report.results)
    if not rows:
        return []
    table = [
        "| " + " | ".join(h.capitalize() for h in HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    table += ["| " + " | ".join(_escape(cell) for cell in cells(row)) + " |" for row in rows]
    return ["", "#### Models", "", *table]


def _pull_request_line(result: TaskResult, pull_request: PullRequest) -> str:
    """`- [title](url) open, +12 −3 (auth)`."""
    title = pull_request.title.strip() or pull_request.url
    state = f"{_escape(pull_request.state)}, " if pull_request.state else ""
    counts = f"+{pull_request.additions} −{pull_request.deletions}"
    return f"- {_link(title, pull_request.url)} {state}{counts} ({_escape(result.name)})"


#: Kept as they are in link destinations; everything else that could end or split one (spaces,
#: parentheses, brackets, pipes, backticks, angle brackets, line breaks) is percent-encoded.
#: `%` stays, so a URL that is already encoded is not encoded twice.
_URL_SAFE = ":/?#@!$&'*+,;=%"

#: Inline Markdown that could turn server text into a link, code, HTML or another table cell.
_INLINE = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "<": "&lt;",
        ">": "&gt;",
    }
)


def _link(text: str, url: str) -> str:
    """`[text](url)`, both made inert; plain text when there is no http(s) URL to link to."""
    shown = _escape(text)
    if not url.lower().startswith(("https://", "http://")):
        return shown
    return f"[{shown}]({_url(url)})"


def _url(url: str) -> str:
    """A link destination that stays one (UTF-8 percent-encoding, as browsers do)."""
    return quote(url.strip(), safe=_URL_SAFE)


def _code(text: str) -> str:
    """A code span holding `text` as it is: fenced by more backticks than any run inside it
    (CommonMark: escapes do not work in code spans)."""
    one_line = " ".join(text.splitlines()).strip()
    fence = "`" * (max(map(len, re.findall("`+", one_line)), default=0) + 1)
    padding = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{padding}{one_line}{padding}{fence}"


def _escape(text: str) -> str:
    """Server text for one table cell or one line: one line, no Markdown structure."""
    return " ".join(text.splitlines()).strip().translate(_INLINE)
