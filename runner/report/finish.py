"""How a batch run ends, for `apply` and `destroy` alike: its exit code, the report of a run
stopped or failed before its plan ran, the result lines, and the report files.

No terminal here: the commands print what these return.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runner import signals
from runner.batch import exit_code, interrupted_before_run
from runner.errors import TasksError
from runner.execute import ApplyReport

if TYPE_CHECKING:
    from runner.batch import Prepared


def _step_summary() -> str | None:
    return os.environ.get("GITHUB_STEP_SUMMARY") or None


@dataclass(frozen=True)
class ReportFiles:
    """Where a run's reports go: `--report` (JSON), `--junit`, and GitHub's step summary."""

    report_path: str | None = None
    junit_path: str | None = None
    command_name: str = "apply"
    step_summary: str | None = field(default_factory=_step_summary)

    @property
    def any(self) -> bool:
        return bool(self.report_path or self.junit_path or self.step_summary)


def run_exit_code(report: ApplyReport) -> int:
    """`batch.exit_code`, except a run interrupted by a signal: 128 + it (SIGTERM 143, SIGHUP
    129), as the shell would report."""
    stopped_by = signals.received()
    if report.interrupted and stopped_by is not None:
        return 128 + stopped_by
    return exit_code(report)


def stopped_before_run(
    stop: KeyboardInterrupt, file: str, prepared: Prepared | None
) -> tuple[ApplyReport, int, str]:
    """The report, exit code and cause (`Ctrl-C`, `SIGTERM`) of a run stopped before its plan
    ran: with a plan its tasks are not started; without one the report says so."""
    how, code = signals.describe(stop)
    name = prepared.batch.name if prepared is not None else Path(file).name
    report = interrupted_before_run(name, prepared.plan if prepared else None, how)
    return report, code, how


def failed_before_run(error: TasksError, file: str) -> ApplyReport:
    """The report of a run that failed before any task was touched (CI reads it to say why)."""
    return ApplyReport(batch=Path(file).name, results=(), stopped=error)


def result_lines(report: ApplyReport, command_name: str) -> list[str]:
    """The result table, the summary, the pull requests the agents opened and the model
    comparison, after a blank."""
    from runner.report.table import comparison_lines, pull_request_lines, result_table

    lines = [""]
    if report.results:
        lines.append(result_table(report))
    lines.append(report.summary(command_name))
    cost = report.cost_line()
    if cost:
        lines.append(cost)
    return lines + pull_request_lines(report) + comparison_lines(report)


def write_reports(report: ApplyReport, code: int, files: ReportFiles) -> Sequence[str]:
    """Write the JSON, JUnit and step-summary files; return warnings (the step summary is best
    effort). Raises TasksError when `--report` or `--junit` cannot be written."""
    from runner.report import json_report
    from runner.report.junit import junit_xml
    from runner.report.markdown import markdown_summary

    name = files.command_name
    if files.report_path:
        document = json_report.report_document(report, code, command_name=name)
        _write(files.report_path, json_report.dumps(document))
    if files.junit_path:
        _write(files.junit_path, junit_xml(report, command_name=name))
    if not files.step_summary:
        return ()
    try:
        with open(files.step_summary, "a", encoding="utf-8") as handle:
            handle.write(markdown_summary(report, command_name=name))
    except OSError as error:
        return (f"cannot write $GITHUB_STEP_SUMMARY: {error}",)
    return ()


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise TasksError(f"{path}: cannot write: {error.strerror or error}") from error
