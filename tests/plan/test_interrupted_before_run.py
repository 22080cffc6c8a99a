"""The report of a run stopped before its plan ran: what was planned, none of it started."""

from __future__ import annotations

from runner.batch import exit_code, interrupted_before_run
from runner.execute import Outcome
from runner.plan import make_plan
from runner.report import json_report

from .helpers import desired, make_batch, observation, owned_task


def test_planned_tasks_are_reported_interrupted_and_not_started() -> None:
    batch = make_batch("nightly", desired("nightly", "a", "Do A"), desired("nightly", "b", "Do B"))
    existing = owned_task("nightly", "b", "Do B")
    plan = make_plan(batch, observation(existing))
    report = interrupted_before_run("nightly", plan, "SIGTERM")
    assert report.interrupted and report.stopped is None
    assert [(r.name, r.action, r.task_id) for r in report.results] == [
        ("a", "create", None),
        ("b", "noop", existing.id),
    ]
    assert {r.outcome for r in report.results} == {Outcome.INTERRUPTED}
    assert {r.error for r in report.results} == {
        "not started: interrupted by SIGTERM before the plan ran"
    }
    assert exit_code(report) == 130
    document = json_report.report_document(report, 143)
    assert document["summary"]["interrupted"] == 2 and document["error"] is None


def test_without_a_plan_the_report_says_why_it_is_empty() -> None:
    report = interrupted_before_run("nightly.tasks.yaml", None, "SIGHUP")
    assert report.interrupted and report.results == ()
    assert report.stopped is not None and report.stopped.message == (
        "interrupted by SIGHUP before the plan was made; nothing was changed"
    )
    assert report.stopped.exit_code == 130
