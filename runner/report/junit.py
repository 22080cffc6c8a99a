"""`--junit FILE`: one test case per task; failed, blocked and timed-out tasks fail.

An interrupted (or unfinished) task is an error rather than a failure: it did not get to end;
a task the budget stopped is skipped. What a chat cost, and the batch's total, are properties
(`cost_usd`, `cost_requests`, `cost_unpriced_requests`) of its test case and of the suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from runner.execute.results import ApplyReport, Outcome, TaskResult
from runner.item import Cost
from runner.money import usd
from runner.render.safe_text import safe_text

_FAILING = (Outcome.FAILED, Outcome.BLOCKED, Outcome.TIMEOUT)


def junit_xml(report: ApplyReport, *, command_name: str = "apply") -> str:
    """The results as JUnit XML text (one <testsuite> named after the batch).

    The suite's time is the run's wall time, from the first task started to the last one
    finished: tasks run in parallel, so the sum of their times would overstate it.
    """
    cases = [_case(report.batch, r) for r in report.results]
    failures = sum(1 for r in report.results if r.outcome in _FAILING)
    errors = sum(
        1 for r in report.results if r.outcome in (Outcome.INTERRUPTED, Outcome.UNKNOWN, None)
    )
    if not cases and report.stopped is not None:
        # Stopped before any task (e.g. preflight): one erroring case, so CI shows red.
        cases.append(_stopped_case(report.batch, report.stopped.message))
        errors += 1
    suite = ET.Element(
        "testsuite",
        {
            "name": f"tasks {command_name} {report.batch}",
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(sum(1 for r in report.results if r.outcome is Outcome.SKIPPED)),
            "time": f"{_wall_seconds(report):.3f}",
        },
    )
    if report.cost is not None:
        properties = _properties(report.cost)
        if report.budget_micros is not None:
            budget = usd(report.budget_micros).removeprefix("$")
            ET.SubElement(properties, "property", {"name": "budget_usd", "value": budget})
        suite.append(properties)
    suite.extend(cases)
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _stopped_case(batch: str, message: str) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": safe_text(batch), "name": "preflight", "time": "0.000"}
    )
    text = safe_text(message)
    ET.SubElement(case, "error", {"message": text, "type": "error"}).text = text
    return case


def _wall_seconds(report: ApplyReport) -> float:
    starts = [r.started_at for r in report.results if r.started_at is not None]
    ends = [r.finished_at for r in report.results if r.finished_at is not None]
    if not starts or not ends:
        return 0.0
    return max(0.0, max(ends) - min(starts))


def _case(batch: str, result: TaskResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": safe_text(f"{batch}.{result.owner}"),
            "name": safe_text(result.name),
            "time": f"{result.duration_seconds or 0.0:.3f}",
        },
    )
    if result.cost is not None:
        case.append(_properties(result.cost))
    outcome = result.outcome
    # XML 1.0 cannot hold most control characters, and CI pages show this text: make it safe.
    text = safe_text(result.error or (outcome.value if outcome else "did not finish"))
    if result.unmet:
        # One failure per unmet expectation, so CI lists each with what was wanted and found.
        for expectation in result.unmet:
            line = safe_text(expectation.one_line())
            attributes = {"message": line, "type": f"expect.{expectation.check}"}
            ET.SubElement(case, "failure", attributes).text = _details(result)
    elif outcome in _FAILING:
        assert outcome is not None
        failure = ET.SubElement(case, "failure", {"message": text, "type": outcome.value})
        failure.text = _details(result)
    elif outcome is Outcome.SKIPPED:
        ET.SubElement(case, "skipped", {"message": text})
    elif outcome in (Outcome.INTERRUPTED, Outcome.UNKNOWN) or outcome is None:
        kind = outcome.value if outcome else "unfinished"
        error = ET.SubElement(case, "error", {"message": text, "type": kind})
        error.text = _details(result)
    out = ET.SubElement(case, "system-out")
    out.text = _details(result)
    return case


def _properties(cost: Cost) -> ET.Element:
    """`<properties>` of what a chat, or the batch, cost."""
    properties = ET.Element("properties")
    for name, value in (
        ("cost_usd", cost.usd.removeprefix("$")),
        ("cost_requests", str(cost.requests)),
        ("cost_unpriced_requests", str(cost.unpriced_requests)),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    return properties


def _details(result: TaskResult) -> str:
    lines = [
        f"task: {result.owner}/{result.coder_name}",
        f"id: {result.task_id or '-'}",
        f"action: {result.action}",
        f"outcome: {result.outcome.value if result.outcome else '-'}",
        f"status: {result.status or '-'} state: {result.state or '-'}",
    ]
    if result.message:
        lines.append(f"message: {result.message}")
    if result.last_message and result.last_message != result.message:
        lines.append(f"last message: {result.last_message}")
    if result.pull_request:
        lines.append(f"pull request: {result.pull_request.one_line()}")
    for expectation in result.expectations:
        verdict = "met" if expectation.met else "unmet"
        lines.append(f"expect {verdict}: {expectation.one_line()}")
    if result.done:
        lines.append(f"done: {'; '.join(result.done)}")
    if result.link:
        lines.append(f"link: {result.link}")
    return safe_text("\n".join(lines))
