"""The model comparison: rows computed from results alone, and each rendering of them."""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from runner.execute.results import ApplyReport, Outcome, TaskResult
from runner.item import Cost, PullRequest
from runner.report.comparison import ModelRow, cells, compare_models
from runner.report.finish import result_lines
from runner.report.json_report import dumps, report_document
from runner.report.markdown import markdown_summary


def result(
    name: str,
    model: str,
    outcome: Outcome,
    *,
    seconds: float | None = None,
    cost: int | None = None,
    pr: tuple[int, int] | None = None,
    action: str = "create",
) -> TaskResult:
    url = f"https://github.com/o/r/pull/{name}"
    return TaskResult(
        name=name,
        owner="me",
        coder_name=name,
        action=action,
        outcome=outcome,
        model=model,
        started_at=None if seconds is None else 1000.0,
        finished_at=None if seconds is None else 1000.0 + seconds,
        cost=None if cost is None else Cost(micros=cost, requests=3, unpriced_requests=0),
        pull_request=None
        if pr is None
        else PullRequest(url, "open", name, additions=pr[0], deletions=pr[1]),
    )


RESULTS = (
    result("a-sonnet", "claude-sonnet-4-5", Outcome.OK, seconds=10, cost=1_500_000, pr=(12, 3)),
    result("b-sonnet", "claude-sonnet-4-5", Outcome.OK, seconds=30, cost=500_000, pr=(5, 1)),
    result("c-sonnet", "claude-sonnet-4-5", Outcome.UNCHANGED, seconds=20, cost=1_000_000),
    result("a-gpt", "gpt-5", Outcome.FAILED, seconds=4, cost=None),
    result("b-gpt", "gpt-5", Outcome.TIMEOUT, seconds=60, cost=250_000),
    result("a-haiku", "", Outcome.OK),
    result("old", "", Outcome.DELETED, action="delete"),  # pruned: no task, so no model
)


def test_one_row_per_model_in_order_of_first_appearance() -> None:
    assert compare_models(RESULTS) == [
        ModelRow("claude-sonnet-4-5", 3, 3, 0, 20.0, 3_000_000, 0, 2, 17, 4),
        ModelRow("gpt-5", 2, 0, 2, 32.0, 250_000, 1, 0, 0, 0),
        ModelRow("", 1, 1, 0, None, None, 1, 0, 0, 0),
    ]


def test_a_batch_on_one_model_compares_nothing() -> None:
    same = [result(f"t{i}", "gpt-5", Outcome.OK) for i in range(3)]
    assert compare_models(same) == []
    assert compare_models([*same, result("gone", "", Outcome.DELETED, action="delete")]) == []


def test_unknowns_are_shown_as_dashes_and_a_partial_cost_as_a_lower_bound() -> None:
    sonnet, gpt, default = (cells(row) for row in compare_models(RESULTS))
    assert sonnet == ["claude-sonnet-4-5", "3", "3", "0", "20s", "$3.00", "2", "+17", "-4"]
    assert gpt == ["gpt-5", "2", "0", "2", "32s", "$0.25+", "0", "+0", "-0"]
    assert default == ["(default)", "1", "1", "0", "-", "-", "0", "+0", "-0"]


def test_terminal_json_and_step_summary_carry_the_same_rows() -> None:
    report = ApplyReport(batch="models", results=RESULTS)
    lines = result_lines(report, "apply")
    start = lines.index("Models compared:")
    table = lines[start + 1].splitlines()
    assert table[0].split() == [
        "MODEL", "TASKS", "OK", "FAILED", "MEDIAN", "COST", "PRS", "ADDED", "REMOVED"
    ]  # fmt: skip
    assert table[2].split() == ["gpt-5", "2", "0", "2", "32s", "$0.25+", "0", "+0", "-0"]

    document = json.loads(dumps(report_document(report, 4)))
    assert [row["model"] for row in document["comparison"]] == ["claude-sonnet-4-5", "gpt-5", None]
    assert document["comparison"][1] == {
        "model": "gpt-5",
        "tasks": 2,
        "ok": 0,
        "failed": 2,
        "median_seconds": 32.0,
        "cost_micros": 250_000,
        "cost_unknown": 1,
        "pull_requests": 0,
        "additions": 0,
        "deletions": 0,
    }
    assert document["tasks"][0]["model"] == "claude-sonnet-4-5"

    summary = markdown_summary(report)
    tokens = MarkdownIt("commonmark").enable("table").parse(summary)
    cells_read = [t.children[0].content for t in tokens if t.type == "inline" and t.children]
    models_at = summary.index("#### Models")
    assert "| claude-sonnet-4-5 | 3 | 3 | 0 | 20s | $3.00 | 2 | +17 | -4 |" in summary[models_at:]
    assert "(default)" in cells_read and "$0.25+" in cells_read


def test_a_run_on_one_model_shows_no_comparison() -> None:
    report = ApplyReport(batch="one", results=(result("a", "gpt-5", Outcome.OK),))
    assert "Models compared:" not in result_lines(report, "apply")
    assert report_document(report, 0)["comparison"] == []
    assert "#### Models" not in markdown_summary(report)
