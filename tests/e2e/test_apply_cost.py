"""Cost, budget and `max_running`: the real `tasks apply` on the simulator, judged on its side.

The simulated v2.36+ deployment prices each chat model request (one per finished turn) at the
price it was started with, and `GET {P}/{chat}/cost` sums a chat's requests and its
sub-agents' (CHATS-CONTRACT 7.4). Time on the server moves only when a poll of the client has
been answered (a stepped clock), so which chats overlap never depends on the machine's load.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, clean, ok, run_tasks, sim_env, write_manifest
from stepped_time import SteppedTime, step_per_look

from runner.money import usd

PRICE = 400_000  # $0.40 per model request
#: Server seconds each answered poll moves the stepped clock on.
STEP = 1.0


def polls(sim: Any) -> int:
    """The list requests the server has answered: chats on either prefix, or tasks."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "GET" and r["path"].rstrip("/").endswith(("/chats", "/tasks"))
    )


@contextmanager
def stepping(sim: Any, now: SteppedTime, held: Callable[[], bool] | None = None) -> Iterator[None]:
    """Time steps once per answered poll; while `held()` is true it stands still instead."""

    def step() -> None:
        if held is None or not held():
            now.advance(STEP)

    with step_per_look(now, STEP, lambda: polls(sim), step):
        yield


def apply(
    sim: Any,
    now: SteppedTime,
    path: str,
    tmp_path: Path,
    *extra: str,
    held: Callable[[], bool] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """`tasks apply --yes` with a JSON report, JUnit (`j.xml`) and a step summary
    (`summary.md`) in `tmp_path`, the server's time stepping at each poll; (result, report)."""
    report, junit, summary = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "summary.md"
    env = {**sim_env(sim), "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["apply", path, "--yes", *FAST_WAITS, "--report", str(report), "--junit", str(junit)]
    with stepping(sim, now, held):
        result = clean(run_tasks([*args, *extra], env=env, timeout=120), sim)
    return result, json.loads(report.read_text()) if report.exists() else {}


def applied(
    stepped_sim: Any,
    tmp_path: Path,
    body: str,
    *extra: str,
    version: str = "2.38.0",
    price: int = 0,
    started_together: int = 0,
) -> tuple[Any, Any, dict[str, Any]]:
    """A fresh stepped deployment charging `price` per request, `body` applied to it; (server,
    result, report). With `started_together`, time stands still until that many items exist,
    so they start at one instant however the machine's load spaces their creates."""
    sim, now = stepped_sim(version, request_price_micros=price)

    def held() -> bool:
        return len(batch_chats(sim)) + len(sim.store.tasks) < started_together

    path = write_manifest(tmp_path, body)
    result, report = apply(sim, now, path, tmp_path, *extra, held=held)
    return sim, result, report


def batch_chats(sim: Any) -> list[Any]:
    return [c for c in sim.chats.chats if c.parent_id is None]


def overlap(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one instant (an end and a start at the same time do not meet)."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = level = 0
    for _, step in edges:
        level += step
        most = max(most, level)
    return most


def chat_spans(sim: Any) -> list[tuple[float, float]]:
    """Each chat's working span on the server: from its create to the end of its last turn."""
    return [(c.created_at, max(end for _, end in c.worked)) for c in batch_chats(sim)]


def task_spans(sim: Any) -> list[tuple[float, float]]:
    """Each task's working span: from its create to the end of its agent's last busy stretch."""
    return [(t.created_at, max(end for _, end in t.agent.busy)) for t in sim.store.tasks]


def test_budget_stops_new_chats_and_the_report_says_what_was_spent(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, result, report = applied(
        stepped_sim,
        tmp_path,
        """\
version: 1
batch: spend
defaults:
  budget: "1.00"
  max_running: 1
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=3]"
    matrix:
      n: [1, 2, 3, 4, 5]
""",
        price=PRICE,
    )
    assert result.code == 4, result.output
    outcomes = [t["outcome"] for t in report["tasks"]]
    # $0.40 a chat: the third reaches $1.00, so the last two are never created.
    assert outcomes == ["ok", "ok", "ok", "skipped", "skipped"]
    assert len(batch_chats(sim)) == 3
    recorded = sum(c.requests for c in sim.chats.chats) * PRICE
    assert recorded == 3 * PRICE
    assert report["cost"]["micros"] == recorded
    assert report["cost"]["usd"] == "1.20" and report["cost"]["budget_usd"] == "1.00"
    assert [t["cost"]["usd"] if t["cost"] else None for t in report["tasks"]] == [
        "0.40",
        "0.40",
        "0.40",
        None,
        None,
    ]
    skipped = report["tasks"][3]
    assert skipped["error"] == "budget reached: spent $1.20 of $1.00" and skipped["id"] is None
    assert report["summary"]["skipped"] == 2
    assert "Cost: $1.20 (3 requests, 0 unpriced) of a $1.00 budget." in result.stdout
    assert "skipped: budget reached" in result.stdout
    # JUnit: the skipped cases are skipped; each chat's cost and the total are properties.
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "2"
    total = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert total == {
        "cost_usd": "1.20",
        "cost_requests": "3",
        "cost_unpriced_requests": "0",
        "budget_usd": "1.00",
    }
    cases = suite.findall("testcase")
    first = {p.get("name"): p.get("value") for p in cases[0].findall("properties/property")}
    assert first["cost_usd"] == "0.40"
    assert cases[4].find("skipped") is not None and cases[4].find("properties") is None
    # The step summary: the total, and a cost column.
    summary = (tmp_path / "summary.md").read_text()
    assert "Cost: $1.20 (3 requests, 0 unpriced) of a $1.00 budget." in summary
    assert "| Cost |" in summary and "| skipped | - |" in summary and "| ok | $0.40 |" in summary


def test_a_saved_plan_keeps_the_budget_and_max_running(stepped_sim: Any, tmp_path: Path) -> None:
    sim, now = stepped_sim("2.38.0", request_price_micros=PRICE)
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: spend
defaults: {budget: "0.40", max_running: 1}
tasks:
  - {name: first, prompt: "first [sim:work=2]"}
  - {name: second, prompt: "second [sim:work=2]"}
""",
    )
    saved = tmp_path / "plan.json"
    ok(run_tasks(["plan", path, "--out", str(saved)], env=sim_env(sim)), sim)
    assert json.loads(saved.read_text())["limits"] == {"max_running": 1, "budget": "0.40"}
    result, report = apply(sim, now, str(saved), tmp_path)
    assert result.code == 4, result.output
    assert [t["outcome"] for t in report["tasks"]] == ["ok", "skipped"]
    assert len(batch_chats(sim)) == 1


def test_a_budget_reached_stops_the_follow_up_of_a_chat_still_working(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, result, report = applied(
        stepped_sim,
        tmp_path,
        """\
version: 1
batch: spend
defaults: {budget: "0.40"}
tasks:
  - name: quick
    prompt: "quick [sim:work=2]"
  - name: slow
    prompt: "slow [sim:work=60]"
    follow_ups: ["and more [sim:work=2]"]
""",
        price=PRICE,
    )
    assert result.code == 4, result.output
    quick, slow = report["tasks"]
    assert quick["outcome"] == "ok" and quick["cost"]["usd"] == "0.40"
    # `slow` was created before the budget was reached, and its follow-up never sent.
    assert slow["outcome"] == "skipped" and slow["follow_ups_sent"] == 0, slow
    assert slow["error"] == "budget reached: spent $0.40 of $0.40"
    chat = next(c for c in batch_chats(sim) if c.labels.get("tasks/item") == "slow")
    assert [m.role for m in chat.messages].count("user") == 1
    assert slow["cost"]["usd"] == "0.40"  # read when its run ended
    assert report["cost"]["micros"] == sum(c.requests for c in sim.chats.chats) * PRICE


def test_max_running_bounds_the_chats_working_at_once(stepped_sim: Any, tmp_path: Path) -> None:
    sim, result, report = applied(
        stepped_sim,
        tmp_path,
        """\
version: 1
batch: bounded
defaults: {max_running: 2}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=3]"
    matrix:
      n: [1, 2, 3, 4, 5, 6]
""",
        started_together=2,
    )
    ok(result, sim)
    assert [t["outcome"] for t in report["tasks"]] == ["ok"] * 6
    assert len(batch_chats(sim)) == 6
    # Never more than two at once, and two did work together: the bound, not a queue of one.
    assert overlap(chat_spans(sim)) == 2
    # No price set: every chat's cost is known and zero.
    assert report["cost"]["usd"] == "0.00" and report["cost"]["requests"] == 6


def test_max_running_bounds_tasks_on_a_tasks_deployment(stepped_sim: Any, tmp_path: Path) -> None:
    sim, result, report = applied(
        stepped_sim,
        tmp_path,
        """\
version: 1
batch: bounded
defaults: {template: claude-code}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=3]"
    matrix:
      n: [1, 2, 3, 4, 5]
""",
        "--max-running",
        "2",
        version="2.34.2",
        started_together=2,
    )
    ok(result, sim)
    assert [t["outcome"] for t in report["tasks"]] == ["ok"] * 5
    assert len(sim.store.tasks) == 5
    assert overlap(task_spans(sim)) == 2
    assert report["cost"] is None and all(t["cost"] is None for t in report["tasks"])
    assert "Cost:" not in result.stdout


def test_max_cost_is_checked_against_what_the_chat_cost(stepped_sim: Any, tmp_path: Path) -> None:
    _, result, report = applied(
        stepped_sim,
        tmp_path,
        """\
version: 1
batch: capped
defaults:
  expect: {max_cost: "0.50"}
tasks:
  - name: once
    prompt: "once [sim:work=2]"
  - name: twice
    prompt: "twice [sim:work=2]"
    follow_ups: ["again [sim:work=2]"]
""",
        price=PRICE,
    )
    assert result.code == 4, result.output
    once, twice = report["tasks"]
    assert once["outcome"] == "ok"
    assert once["expectations"] == [
        {"check": "max_cost", "want": "$0.50", "got": "$0.40", "met": True}
    ]
    assert twice["outcome"] == "failed"
    assert twice["error"] == "expectation unmet: max_cost: wanted $0.50, got $0.80"


@pytest.mark.parametrize(
    ("version", "extra", "server"),
    [
        ("2.34.2", (), "Coder v2.34.2 on tasks"),
        ("2.35.0", ("--backend", "chats"), "Coder v2.35.0 on chats"),
    ],
    ids=["v2.34-tasks", "v2.35-chats"],
)
def test_budget_and_max_cost_need_a_server_that_keeps_cost(
    make_sim: Any, tmp_path: Path, version: str, extra: tuple[str, ...], server: str
) -> None:
    sim = make_sim(version)
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: spend
defaults:
  template: claude-code
  budget: "5"
tasks:
  - name: one
    prompt: hello
    expect: {max_cost: "1"}
""",
    )
    result = run_tasks(["apply", path, "--yes", *extra], env=sim_env(sim))
    ok(result, sim, code=3)
    why = f"needs the chat cost Coder keeps from v2.36 on (Coder Agents); {server} keeps none"
    assert f"{path}:5:11: defaults.budget: {why}" in result.stderr
    assert f"{path}:7: task 'one': expect.max_cost {why}" in result.stderr
    # Refused before anything was made.
    assert not sim.store.tasks and not sim.chats.chats


def test_bad_budget_and_max_running_are_located_schema_errors(tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path,
        """\
version: 1
batch: spend
defaults:
  budget: "12.5 USD"
  max_running: 0
tasks:
  - name: one
    prompt: hello
    max_running: 2
    expect: {max_cost: 3}
""",
    )
    result = run_tasks(["validate", path])
    assert result.code == 3, result.output
    assert "Traceback" not in result.output
    assert f'{path}:4:11: defaults.budget: "12.5 USD": expected US dollars' in result.output
    assert f"{path}:5:16: defaults.max_running: must be at least 1" in result.output
    assert f'{path}:9:5: tasks[0].max_running: unknown key "max_running"' in result.output
    assert f"{path}:10:24: tasks[0].expect.max_cost: expected a string" in result.output
    bad_flag = run_tasks(["apply", path, "--max-running", "0"])
    assert bad_flag.code == 3 and "--max-running" in bad_flag.output


def test_usd_renders_cents_and_every_smaller_digit() -> None:
    assert [usd(m) for m in (0, 1_200_000, 400_000, 125, 10_000_000)] == [
        "$0.00",
        "$1.20",
        "$0.40",
        "$0.000125",
        "$10.00",
    ]
