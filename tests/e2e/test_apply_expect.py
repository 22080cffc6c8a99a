"""`expect:` decides a task's outcome, on Chats (v2.38) and on Tasks (v2.34), end to end.

The simulated agents open pull requests on `[sim:pr]`: on Chats the chat's `diff_status`
(CHATS-CONTRACT 1.2), on Tasks the `uri` of the agent's final status report (CONTRACT 2.2).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tests.conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

FOUR_CHATS = """\
version: 1
batch: prs
defaults:
  timeout: 60s
  expect:
    pull_request: opened
tasks:
  - name: auth
    prompt: "Add auth and open a pull request [sim:pr] [sim:work=1]"
  - name: docs
    prompt: "Write the docs and open a pull request [sim:pr] [sim:work=1]"
  - name: lint
    prompt: "Look at the lint warnings [sim:work=1]"
  - name: notes
    prompt: "Write release notes [sim:work=1]"
"""


def _apply(path: str, env: dict[str, str], tmp_path: Path) -> tuple[Any, dict[str, Any], Any]:
    report, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    args = ["apply", path, "--yes", *FAST_WAITS, "--report", str(report), "--junit", str(junit)]
    applied = run_tasks(args, env=env)
    return applied, json.loads(report.read_text()), ET.parse(junit).getroot()


def _checked(check: str, want: str, got: str, met: bool) -> dict[str, Any]:
    """One entry of a task's `expectations` in the JSON report."""
    return {"check": check, "want": want, "got": got, "met": met}


def test_chats_without_the_pull_request_fail_with_what_was_wanted_and_found(
    make_sim: Any, tmp_path: Path
) -> None:
    sim, summary = make_sim("2.38.0"), tmp_path / "summary.md"
    env = {**sim_env(sim), "GITHUB_STEP_SUMMARY": str(summary)}
    path = write_manifest(tmp_path, FOUR_CHATS)

    applied, document, junit = _apply(path, env, tmp_path)

    ok(applied, sim, 4)
    tasks = {t["name"]: t for t in document["tasks"]}
    assert {name: t["outcome"] for name, t in tasks.items()} == {
        "auth": "ok",
        "docs": "ok",
        "lint": "failed",
        "notes": "failed",
    }
    for name in ("auth", "docs"):
        url = tasks[name]["pull_request"]["url"]
        assert url.startswith("https://github.com/example/repo/pull/")
        assert tasks[name]["expectations"] == [
            {"check": "pull_request", "want": "opened", "got": f"opened {url}", "met": True}
        ]
    for name in ("lint", "notes"):
        assert tasks[name]["pull_request"] is None
        assert tasks[name]["expectations"] == [
            {"check": "pull_request", "want": "opened", "got": "none", "met": False}
        ]
        assert tasks[name]["error"] == "expectation unmet: pull_request: wanted opened, got none"
    assert [p["name"] for p in document["pull_requests"]] == ["auth", "docs"]
    assert document["exit_code"] == 4 and document["summary"]["failed"] == 2

    failures = junit.findall(".//testcase/failure")
    assert [f.get("message") for f in failures] == [
        "pull_request: wanted opened, got none",
        "pull_request: wanted opened, got none",
    ]
    assert {f.get("type") for f in failures} == {"expect.pull_request"}
    failing = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert failing == ["lint", "notes"]
    assert junit.find("testsuite").get("failures") == "2"  # type: ignore[union-attr]

    assert "expectation unmet: pull_request: wanted opened, got none" in applied.stdout
    text = summary.read_text()
    # v2.38 keeps each chat's cost (nothing priced here): a column after the outcome.
    unmet_row = (
        "| failed | $0.00 | active | idle | created "
        "| expectation unmet: pull_request: wanted opened, got none |"
    )
    assert text.count(unmet_row) == 2, text

    # A re-run changes nothing and reaches the same verdict: the result, not the run, decides.
    again, document, _ = _apply(path, env, tmp_path)
    ok(again, sim, 4)
    outcomes = {t["name"]: (t["action"], t["outcome"]) for t in document["tasks"]}
    assert outcomes == {
        "auth": ("noop", "unchanged"),
        "docs": ("noop", "unchanged"),
        "lint": ("noop", "failed"),
        "notes": ("noop", "failed"),
    }


TASKS_MESSAGES = """\
version: 1
batch: msgs
defaults:
  template: claude-code
  timeout: 60s
  expect:
    message: "tests pass"
tasks:
  - name: green
    prompt: "Fix the flaky test until the tests pass [sim:work=1]"
  - name: red
    prompt: "Fix the flaky test [sim:work=1]"
"""


def test_tasks_final_message_must_match_the_pattern(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    path = write_manifest(tmp_path, TASKS_MESSAGES)

    applied, document, junit = _apply(path, sim_env(sim), tmp_path)

    ok(applied, sim, 4)
    assert " on Tasks " in applied.stdout.splitlines()[0]
    green, red = document["tasks"]
    assert green["outcome"] == "ok"
    got = "Done: Fix the flaky test until the tests pass"
    assert green["expectations"] == [_checked("message", "tests pass", got, True)]
    assert red["outcome"] == "failed"
    assert red["expectations"] == [
        {"check": "message", "want": "tests pass", "got": "Done: Fix the flaky test", "met": False}
    ]
    failures = junit.findall(".//testcase/failure")
    assert [f.get("message") for f in failures] == [
        "message: wanted tests pass, got Done: Fix the flaky test"
    ]

    # Expectations are not what is created: changed, they are no drift, and the next apply
    # judges the same results by the new ones.
    Path(path).write_text(TASKS_MESSAGES.replace('"tests pass"', '"^Done: Fix the flaky"'))
    plan = run_tasks(["plan", path, "--detailed-exitcode"], env=sim_env(sim))
    ok(plan, sim, 0)
    again, document, _ = _apply(path, sim_env(sim), tmp_path)
    ok(again, sim, 0)
    assert [(t["action"], t["outcome"]) for t in document["tasks"]] == [("noop", "unchanged")] * 2


def test_one_task_missing_its_expectation_exits_4_not_1(make_sim: Any, tmp_path: Path) -> None:
    """Every task failed, but by its result: a missed expectation, not an error of the run."""
    sim = make_sim("2.34.2")
    body = TASKS_MESSAGES.split("  - name: green")[0] + (
        '  - name: red\n    prompt: "Fix the flaky test [sim:work=1]"\n'
    )
    applied, document, _ = _apply(write_manifest(tmp_path, body), sim_env(sim), tmp_path)
    ok(applied, sim, 4)
    assert [t["outcome"] for t in document["tasks"]] == ["failed"]


TASKS_PULL_REQUESTS = """\
version: 1
batch: tprs
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: opens
    prompt: "Add auth and open a pull request [sim:pr] [sim:work=1]"
    expect: {pull_request: opened}
  - name: quiet
    prompt: "Only read the code [sim:work=1]"
    expect: {pull_request: none}
"""


def test_tasks_pull_request_comes_from_the_status_uri(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    path = write_manifest(tmp_path, TASKS_PULL_REQUESTS)

    applied, document, _ = _apply(path, sim_env(sim), tmp_path)

    ok(applied, sim, 0)
    opens, quiet = document["tasks"]
    url = opens["pull_request"]["url"]
    assert url.startswith("https://github.com/example/repo/pull/")
    assert opens["outcome"] == "ok" and opens["expectations"][0]["got"] == f"opened {url}"
    assert quiet["outcome"] == "ok" and quiet["expectations"][0]["got"] == "none"
    assert document["pull_requests"] == [
        {"name": "opens", "owner": opens["owner"], **opens["pull_request"]}
    ]


def test_merged_on_tasks_is_refused_before_anything_is_created(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.34.2")
    body = TASKS_PULL_REQUESTS.replace("{pull_request: opened}", "{pull_request: merged}")
    path = write_manifest(tmp_path, body)

    applied = run_tasks(["apply", path, "--yes", *FAST_WAITS], env=sim_env(sim))

    ok(applied, sim, 3)
    assert f"{path}:7:" in applied.stderr
    assert "task 'opens': expect.pull_request: merged cannot be checked on Tasks" in applied.stderr
    assert not any(e["method"] == "POST" for e in sim.exchanges)


CHAT_MESSAGES = """\
version: 1
batch: said
defaults:
  timeout: 60s
  expect:
    message: "opened pull request #\\\\d+"
tasks:
  - name: opens
    prompt: "Add auth and open a pull request [sim:pr] [sim:work=1]"
  - name: reads
    prompt: "Read the code [sim:work=1]"
"""


def test_chats_last_assistant_text_must_match_the_pattern(make_sim: Any, tmp_path: Path) -> None:
    """Matched against the assistant's own words: read from the history, not the turn's label
    (`last_turn_summary`, which the model writes)."""
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, CHAT_MESSAGES)

    applied, document, _ = _apply(path, sim_env(sim), tmp_path)

    ok(applied, sim, 4)
    opens, reads = document["tasks"]
    assert opens["outcome"] == "ok" and opens["expectations"][0]["met"] is True
    assert opens["last_message"].startswith("I opened pull request #")
    assert reads["outcome"] == "failed"
    got = "I worked on: Read the code. What next?"
    assert reads["expectations"] == [_checked("message", "opened pull request #\\d+", got, False)]
    histories = {
        e["path"] for e in sim.exchanges if e["method"] == "GET" and e["path"].endswith("/messages")
    }
    assert {f"/{t['id']}/messages" for t in (opens, reads)} <= {
        "/" + p.rsplit("/", 2)[-2] + "/messages" for p in histories
    }
