"""What Coder knows of each result (pull request, last message) in every report format."""

from __future__ import annotations

from xml.etree import ElementTree

from runner.execute.results import ApplyReport, Outcome, TaskResult
from runner.item import PullRequest
from runner.report.json_report import report_document
from runner.report.junit import junit_xml
from runner.report.markdown import markdown_summary
from runner.report.table import pull_request_lines, result_table

URL = "https://coder.example.com"
PR = PullRequest(
    url="https://github.com/example/repo/pull/7",
    state="open",
    title="Add auth [beta]",
    additions=12,
    deletions=3,
)


def report() -> ApplyReport:
    chat = TaskResult(
        name="auth",
        owner="me",
        coder_name="auth",
        action="create",
        task_id="3f2a0000-0000-4000-8000-000000000001",
        outcome=Outcome.OK,
        status="waiting",
        link=f"{URL}/agents/3f2a0000-0000-4000-8000-000000000001",
        pull_request=PR,
        last_message="Opened a pull request with the login flow.",
    )
    task = TaskResult(
        name="docs",
        owner="me",
        coder_name="docs-1a2b3c",
        action="noop",
        task_id="9",
        outcome=Outcome.UNCHANGED,
        message="Wrote the README section",
        last_message="Wrote the README section",
        link=f"{URL}/tasks/admin/9",
    )
    return ApplyReport("nightly", (chat, task), server_version="v2.38.0", dashboard_url=URL)


def test_json_report_carries_the_pull_request_and_last_message() -> None:
    document = report_document(report(), 0)
    auth, docs = document["tasks"]
    assert auth["pull_request"] == {
        "url": PR.url,
        "state": "open",
        "title": "Add auth [beta]",
        "additions": 12,
        "deletions": 3,
    }
    assert auth["last_message"] == "Opened a pull request with the login flow."
    assert auth["link"].endswith("/agents/3f2a0000-0000-4000-8000-000000000001")
    assert docs["pull_request"] is None and docs["last_message"] == "Wrote the README section"
    assert document["pull_requests"] == [{"name": "auth", "owner": "me", **auth["pull_request"]}]


def test_step_summary_ends_with_the_pull_requests() -> None:
    text = markdown_summary(report())
    assert f"[auth]({URL}/agents/3f2a0000-0000-4000-8000-000000000001)" in text
    assert f"[docs]({URL}/tasks/admin/9)" in text
    assert "Opened a pull request with the login flow." in text
    tail = text.split("#### Pull requests", 1)[1]
    assert f"- [Add auth \\[beta\\]]({PR.url}) open, +12 −3 (auth)" in tail


def test_terminal_and_junit_name_the_pull_request() -> None:
    result = report()
    assert pull_request_lines(result) == [
        "Pull requests opened by the agents (1):",
        f"  me/auth: {PR.url} (open, +12 -3) Add auth [beta]",
    ]
    assert "Opened a pull request" in result_table(result)
    root = ElementTree.fromstring(junit_xml(result))
    outs = [c.findtext("system-out") or "" for c in root.iter("testcase")]
    assert f"pull request: {PR.url} (open, +12 -3) Add auth [beta]" in outs[0]
    assert "last message: Opened a pull request with the login flow." in outs[0]
    assert "pull request" not in outs[1]


def test_no_pull_requests_adds_nothing() -> None:
    plain = ApplyReport("nightly", (), dashboard_url=URL)
    assert pull_request_lines(plain) == []
    assert "Pull requests" not in markdown_summary(plain)
    assert report_document(plain, 0)["pull_requests"] == []
