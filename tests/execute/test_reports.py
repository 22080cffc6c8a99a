"""Reports from results: JSON, JUnit, Markdown, the live view, and the exit code rule."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from xml.etree import ElementTree

from runner.batch import exit_code
from runner.execute import ApplyReport, Event, Outcome, TaskResult
from runner.report import json_report
from runner.report.junit import junit_xml
from runner.report.live import LiveProgress, PlainProgress
from runner.report.markdown import markdown_summary


def result(name: str, outcome: Outcome | None, **kw: object) -> TaskResult:
    made = TaskResult(name=name, owner="alice", coder_name=f"{name}-abc123", action="create")
    return replace(made, outcome=outcome, **kw)


def report(*outcomes: Outcome) -> ApplyReport:
    results = tuple(result(f"t{i}", o) for i, o in enumerate(outcomes))
    return ApplyReport("nightly", results, server_version="v2.34.2", dashboard_url="https://c")


def test_exit_codes() -> None:
    assert exit_code(report(Outcome.OK, Outcome.UNCHANGED, Outcome.DRIFTED)) == 0
    assert exit_code(report(Outcome.OK, Outcome.FAILED)) == 4
    assert exit_code(report(Outcome.OK, Outcome.BLOCKED)) == 4
    assert exit_code(report(Outcome.OK, Outcome.TIMEOUT)) == 5
    assert exit_code(report(Outcome.FAILED, Outcome.TIMEOUT)) == 4
    assert exit_code(report(Outcome.FAILED, Outcome.FAILED)) == 1
    assert exit_code(report()) == 0


def test_json_report_has_every_field_per_task() -> None:
    done = result(
        "a",
        Outcome.OK,
        task_id="id-1",
        done=["created"],
        started_at=0.0,
        finished_at=1.5,
        status="active",
        state="idle",
        message="Done",
    )
    document = json_report.report_document(ApplyReport("nightly", (done,)), 0)
    (task,) = json.loads(json_report.dumps(document))["tasks"]
    assert task["id"] == "id-1" and task["outcome"] == "ok" and task["done"] == ["created"]
    assert task["timings"]["duration_seconds"] == 1.5
    assert task["timings"]["started_at"] == "1970-01-01T00:00:00Z"
    assert document["summary"]["ok"] == 1


def test_junit_fails_failed_and_timed_out_tasks() -> None:
    outcomes = (Outcome.OK, Outcome.FAILED, Outcome.TIMEOUT, Outcome.UNCHANGED, Outcome.INTERRUPTED)
    suite = ElementTree.fromstring(junit_xml(report(*outcomes))).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["t1"].find("failure") is not None
    timeout = cases["t2"].find("failure")
    assert timeout is not None and timeout.get("type") == "timeout"
    interrupted = cases["t4"].find("error")
    assert interrupted is not None and interrupted.get("type") == "interrupted"
    assert cases["t0"].find("failure") is None and cases["t3"].find("error") is None


def test_markdown_links_and_escapes() -> None:
    linked = result("a|b", Outcome.OK, link="https://c/tasks/alice/id-1", message="x | y")
    text = markdown_summary(ApplyReport("nightly", (linked,)))
    assert "[a\\|b](https://c/tasks/alice/id-1)" in text
    assert "x \\| y" in text


def test_progress_plain_lines_and_live_redraw() -> None:
    lines: list[str] = []
    task = result("a", Outcome.OK)
    PlainProgress(lines.append)(Event(0, task, "created"))
    assert lines == ["[alice/a] created"]
    drawn: list[str] = []
    live = LiveProgress(drawn.append, interval=0.0)
    live(Event(0, task, "created"))
    live(Event(1, result("b", Outcome.OK), "created", final=True))
    assert "\x1b[" not in drawn[0]
    assert drawn[-1].startswith("\x1b[1F\x1b[J")  # redrawn in place over the first block
    assert "alice/a" in drawn[-1] and "alice/b" in drawn[-1]


def test_live_view_fits_the_terminal_however_many_tasks() -> None:
    # Taller than the screen, the cursor cannot go back to the block's top: every redraw
    # would pile a new copy below the old one. Wider, each line wraps and the count is off.
    drawn: list[str] = []
    live = LiveProgress(drawn.append, interval=0.0, size=lambda: os.terminal_size((60, 10)))
    results = [result(f"task-{n}", None) for n in range(50)]
    for index, item in enumerate(results):
        live(Event(index, item, "created " + "x" * 100))
    live(Event(0, replace(results[0], outcome=Outcome.OK), "ok", final=True))
    previous = 0
    for block in drawn:
        body = block
        if previous:
            assert block.startswith(f"\x1b[{previous}F\x1b[J"), block[:12]
            body = block.split("\x1b[J", 1)[1]
        lines = body.split("\n")
        assert len(lines) <= 9 and all(len(line) <= 59 for line in lines), lines
        previous = len(lines)
    last = drawn[-1].split("\x1b[J", 1)[1].split("\n")
    assert last[-1] == "  ... and 42 more (1 finished)"
    assert "alice/task-0 " not in drawn[-1]  # finished tasks give way to running ones


def test_an_interrupted_run_exits_130_in_its_reports_too() -> None:
    interrupted = ApplyReport("nightly", (result("a", Outcome.OK),), interrupted=True)
    assert exit_code(interrupted) == 130
    assert json_report.report_document(interrupted, exit_code(interrupted))["exit_code"] == 130
