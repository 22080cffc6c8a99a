"""`tasks plan`, `tasks apply` and `tasks destroy` end to end: the real command, the simulator.

Each test runs on both Tasks generations (the `sim` fixture), and those marked `ON_EVERY_API` on a
Chats-only release too, unless it needs special switches
(`make_sim` with latency, rate limits or faults). The simulator's request log and the tasks'
logs are the witnesses: they show what was created and sent, and how often.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from conftest import FAST_WAITS, ON_EVERY_API, ok, run_tasks, sim_env, write_manifest

from runner import ownership

QUICK = """\
version: 1
batch: nightly
defaults:
  template: claude-code
  timeout: 30s
tasks:
  - name: auth
    prompt: "Add auth [sim:work=2]"
    follow_ups:
      - "Please also add unit tests."
      - "And docs."
  - name: "fix-{{ matrix.svc }}"
    prompt: "Fix the flaky tests in {{ matrix.svc }} [sim:work=1]"
    matrix:
      svc: [users, billing]
"""


def created(sim: Any) -> list[str]:
    """Paths of successful task or chat creates in the simulator's request log."""
    return [
        r["path"]
        for r in sim.requests
        if r["method"] == "POST"
        and r["status"] == 201
        and ("/tasks/" in r["path"] or r["path"].endswith("/chats"))
    ]


def sends(sim: Any) -> int:
    """Follow-ups delivered: task sends, or chat messages."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST"
        and (
            (r["path"].endswith("/send") and r["status"] == 204)
            or (r["path"].endswith("/messages") and r["status"] == 200)
        )
    )


def task_json(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run_tasks(["list", "--all", "-o", "json"], env=env)
    assert result.code == 0, result.output
    tasks: list[dict[str, Any]] = json.loads(result.stdout)
    return tasks


def inputs(env: dict[str, str], name: str) -> list[str]:
    (task,) = [t for t in task_json(env) if t["name"] == name]
    result = run_tasks(["logs", f"{task['owner_name']}/{task['id']}", "-o", "json"], env=env)
    if result.code != 0:
        result = run_tasks(["logs", task["id"], "-o", "json"], env=env)
    assert result.code == 0, result.output
    return [e["content"] for e in json.loads(result.stdout) if e["type"] == "input"]


def test_apply_converges_and_second_apply_changes_nothing(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    path = write_manifest(tmp_path, QUICK)
    plan = ok(run_tasks(["plan", path, "--detailed-exitcode"], env=env), sim, code=2)
    assert "Plan: 3 to create, 0 to update, 0 to delete, 0 drifted." in plan.stdout
    assert "+ auth" in plan.stdout
    first = ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    assert "sent follow-up 2/2" in first.stdout
    assert "Apply: 3 ok, 0 deleted, 0 unchanged, 0 failed, 0 timed out." in first.stdout
    auth = ownership.coder_name("nightly", "auth")
    assert inputs(env, auth) == [
        "Add auth [sim:work=2]",
        "Please also add unit tests.",
        "And docs.",
    ]
    second = ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    assert "No changes." in second.stdout
    assert "Apply: 0 ok, 0 deleted, 3 unchanged" in second.stdout
    assert len(created(sim)) == 3
    assert sends(sim) == 2
    ok(run_tasks(["plan", path, "--detailed-exitcode"], env=env), sim, code=0)


@ON_EVERY_API
def test_apply_refuses_without_yes_when_stdin_is_not_a_terminal(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    result = run_tasks(["apply", write_manifest(tmp_path, QUICK), *FAST_WAITS], env=env)
    assert result.code == 3, result.output
    assert "pass --yes" in result.stderr
    assert created(sim) == []
    dry = ok(run_tasks(["apply", write_manifest(tmp_path, QUICK), "--dry-run"], env=env), sim)
    assert "nothing was changed" in dry.stdout
    assert created(sim) == []


def test_invalid_manifest_and_preflight_problems_exit_3(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    broken = write_manifest(tmp_path, "version: 1\nbatch: nightly\ntasks: 7\n", "broken.tasks.yaml")
    result = run_tasks(["plan", broken, "--detailed-exitcode"], env=env)
    assert result.code == 3, result.output
    assert "broken.tasks.yaml:" in result.stderr
    bad = write_manifest(
        tmp_path,
        "version: 1\nbatch: nightly\ntasks:\n"
        "  - {name: a, prompt: x, template: nope}\n"
        "  - {name: b, prompt: x, template: nope}\n"
        "  - {name: c, prompt: x, template: docker}\n",
        "bad.tasks.yaml",
    )
    result = run_tasks(["apply", bad, "--yes"], env=env)
    assert result.code == 3, result.output
    assert "preflight found 2 problems" in result.stderr
    assert "template 'nope' not found in organization 'coder' (tasks: a, b)" in result.stderr
    assert "(tasks: c)" in result.stderr
    assert "Traceback" not in result.output
    assert created(sim) == []


def test_prune_touches_only_this_batchs_tasks(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    one = """\
version: 1
batch: {batch}
defaults: {{template: claude-code, wait: none}}
tasks:
{tasks}
"""
    # `gone` belongs to another user: an owner dropped from the manifest is still pruned.
    both = "  - {name: keep, prompt: keep}\n  - {name: gone, prompt: gone, owner: bob}\n"
    ok(
        run_tasks(
            [
                "apply",
                write_manifest(tmp_path, one.format(batch="nightly", tasks=both)),
                "--yes",
                *FAST_WAITS,
            ],
            env=env,
        ),
        sim,
    )
    # Lookalikes: another batch whose name starts the same, and a task made by hand.
    other = write_manifest(tmp_path, one.format(batch="nightly-2", tasks=both), "other.tasks.yaml")
    ok(run_tasks(["apply", other, "--yes", *FAST_WAITS], env=env), sim)
    ok(run_tasks(["create", "--name", "nightly-foo", "by hand"], env=env), sim)
    ok(run_tasks(["create", "--name", "gone-foo", "by hand"], env=env), sim)
    smaller = write_manifest(
        tmp_path,
        one.format(batch="nightly", tasks="  - {name: keep, prompt: keep}\n"),
        "smaller.tasks.yaml",
    )
    plain = ok(run_tasks(["plan", smaller], env=env), sim)
    assert "No changes." in plain.stdout
    plan = ok(run_tasks(["plan", smaller, "--prune"], env=env), sim)
    gone = ownership.coder_name("nightly", "gone")
    assert f"  - gone  bob/{gone}" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 1 to delete, 0 drifted." in plan.stdout
    ok(run_tasks(["apply", smaller, "--prune", "--yes", *FAST_WAITS], env=env), sim)
    names = sorted(t["name"] for t in task_json(env))
    assert names == sorted(
        [
            ownership.coder_name("nightly", "keep"),
            ownership.coder_name("nightly-2", "keep"),
            ownership.coder_name("nightly-2", "gone"),
            "nightly-foo",
            "gone-foo",
        ]
    )
    refused = run_tasks(["destroy", other], env=env)
    assert refused.code == 3 and "pass --yes" in refused.stderr
    destroy = ok(run_tasks(["destroy", other, "--yes"], env=env), sim)
    assert "2 deleted" in destroy.stdout
    names = sorted(t["name"] for t in task_json(env))
    assert names == sorted([ownership.coder_name("nightly", "keep"), "nightly-foo", "gone-foo"])


def test_drift_is_shown_and_replace_recreates(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    body = (
        "version: 1\nbatch: nightly\ndefaults: {{template: claude-code, timeout: 30s}}\n"
        "tasks:\n  - {{name: a, prompt: '{prompt} [sim:work=1]', follow_ups: [more]}}\n"
    )
    ok(
        run_tasks(
            ["apply", write_manifest(tmp_path, body.format(prompt="old")), "--yes", *FAST_WAITS],
            env=env,
        ),
        sim,
    )
    changed = write_manifest(tmp_path, body.format(prompt="new"), "changed.tasks.yaml")
    plan = ok(run_tasks(["plan", changed, "--detailed-exitcode"], env=env), sim)
    assert "! a" in plan.stdout and "prompt differs" in plan.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 drifted." in plan.stdout
    left = ok(run_tasks(["apply", changed, "--yes", *FAST_WAITS], env=env), sim)
    assert "1 drifted" in left.stdout
    replaced = ok(run_tasks(["apply", changed, "--yes", "--replace", *FAST_WAITS], env=env), sim)
    assert "-/+ a" in replaced.stdout
    (task,) = task_json(env)
    assert task["initial_prompt"] == "new [sim:work=1]"
    assert inputs(env, task["name"]) == ["new [sim:work=1]", "more"]


def test_target_limits_the_plan(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    path = write_manifest(tmp_path, QUICK)
    plan = ok(run_tasks(["plan", path, "--target", "fix-users"], env=env), sim)
    assert "Plan: 1 to create, 0 to update, 0 to delete, 0 drifted." in plan.stdout
    ok(run_tasks(["apply", path, "--target", "fix-users", "--yes", *FAST_WAITS], env=env), sim)
    assert [t["name"] for t in task_json(env)] == [ownership.coder_name("nightly", "fix-users")]
    unknown = run_tasks(["plan", path, "--target", "nope"], env=env)
    assert unknown.code == 3
    assert "--target nope: no such task in batch 'nightly'" in unknown.stderr


def test_saved_plan_is_applied_only_while_the_deployment_is_unchanged(
    sim: Any, tmp_path: Path
) -> None:
    env = sim_env(sim)
    path = write_manifest(tmp_path, QUICK)
    saved = str(tmp_path / "plan.json")
    ok(run_tasks(["plan", path, "--out", saved, "--target", "fix-users"], env=env), sim)
    document = json.loads(Path(saved).read_text())
    assert document["format"] == "coder-tasks-plan" and document["format_version"] == 1
    assert [a["name"] for a in document["actions"]] == ["fix-users"]
    ok(run_tasks(["apply", saved, "--yes", *FAST_WAITS], env=env), sim)
    assert len(created(sim)) == 1
    # Made before the change above: refused.
    stale = str(tmp_path / "stale.json")
    ok(run_tasks(["plan", path, "--out", stale], env=env), sim)
    ok(run_tasks(["create", "--name", ownership.coder_name("nightly", "auth"), "x"], env=env), sim)
    refused = run_tasks(["apply", stale, "--yes", *FAST_WAITS], env=env)
    assert refused.code == 1, refused.output
    assert "the deployment changed since" in refused.stderr
    assert len(created(sim)) == 2
    mixed = run_tasks(["apply", saved, "--prune", "--yes"], env=env)
    assert mixed.code == 3 and "saved plan" in mixed.stderr


def test_reports_junit_and_step_summary(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    summary = tmp_path / "summary.md"
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    body = """\
version: 1
batch: ci
defaults: {template: claude-code, timeout: 20s}
tasks:
  - {name: good, prompt: "fine [sim:work=1]"}
  - {name: bad, prompt: "breaks [sim:work=1] [sim:fail]"}
"""
    report, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    result = run_tasks(
        [
            "apply",
            write_manifest(tmp_path, body),
            "--yes",
            *FAST_WAITS,
            "--report",
            str(report),
            "--junit",
            str(junit),
        ],
        env=env,
    )
    ok(result, sim, code=4)
    assert "Apply: 1 ok, 0 deleted, 0 unchanged, 1 failed, 0 timed out." in result.stdout
    document = json.loads(report.read_text())
    assert document["exit_code"] == 4
    by_name = {t["name"]: t for t in document["tasks"]}
    assert by_name["good"]["outcome"] == "ok" and by_name["good"]["done"] == ["created"]
    assert by_name["bad"]["outcome"] == "failed"
    assert by_name["bad"]["state"] == "failed"
    # A task's last word is its final state message; Tasks track no pull request.
    assert by_name["bad"]["last_message"] == by_name["bad"]["message"] != ""
    assert by_name["good"]["pull_request"] is None and document["pull_requests"] == []
    assert by_name["good"]["id"] and by_name["good"]["timings"]["duration_seconds"] >= 0
    link = f"{sim.url}/tasks/admin/{by_name['good']['id']}"
    assert by_name["good"]["link"] == link
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["bad"]
    text = summary.read_text()
    assert "### tasks apply: `ci`" in text
    assert f"[good]({link})" in text
    assert "| ❌ |" in text


def test_unreachable_deployment_is_a_one_line_error(tmp_path: Path) -> None:
    env = {"CODER_URL": "http://127.0.0.1:9", "CODER_SESSION_TOKEN": "not-a-real-token"}
    result = run_tasks(["plan", write_manifest(tmp_path, QUICK), "--detailed-exitcode"], env=env)
    assert result.code == 1, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


@ON_EVERY_API
def test_wait_timeout_exits_5(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    body = """\
version: 1
batch: slow
tasks:
  - {name: slow, prompt: "slow [sim:work=900]", template: claude-code, timeout: 1s}
"""
    result = run_tasks(["apply", write_manifest(tmp_path, body), "--yes", *FAST_WAITS], env=env)
    ok(result, sim, code=5)
    assert "timeout: timed out: the agent was not idle" in result.stdout


def assert_none_refused(requests: list[dict[str, Any]]) -> None:
    """No request of the apply met a 429. A client started afterwards cannot know what is
    left of the window the apply spent until its first answer says so (its transport then
    waits out a 429), so only the apply's own requests are judged."""
    refused = [(r["method"], r["path"]) for r in requests if r["status"] == 429]
    assert not refused, refused


#: Four tasks with two follow-ups each, for the runs under lost responses and rate limits.
CHAOS = (
    "version: 1\nbatch: chaos\ndefaults: {template: claude-code, timeout: 60s}\ntasks:\n"
    + "".join(
        f"  - {{name: t{i}, prompt: 'job {i} [sim:work=1]', follow_ups: [one, two]}}\n"
        for i in range(4)
    )
)


@pytest.mark.parametrize("version", ["2.28.11", "2.34.2"])
def test_lost_responses_under_latency_and_rate_limits(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    sim = make_sim(version, latency_ms=15, rate_limit=12)
    env = sim_env(sim)
    # Creates and sends whose responses are lost after the server did the work, and failing
    # list polls, all under a small rate limit.
    sim.faults.add(method="POST", path=r"/tasks/[a-z]+$", when="after", times=2, status=0)
    sim.faults.add(method="POST", path=r"/send$", when="after", times=2, status=0)
    sim.faults.add(method="GET", path=r"/tasks$", when="before", times=2, status=503)
    path = write_manifest(tmp_path, CHAOS)
    result = run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env, timeout=120)
    applied = len(sim.requests)  # the apply's; the checks below are fresh clients of their own
    ok(result, sim)
    assert "adopted (created, response lost)" in result.stdout
    assert "not sent again" in result.stdout
    listed = task_json(env)
    assert len(listed) == 4
    for task in listed:
        assert inputs(env, task["name"]) == [task["initial_prompt"], "one", "two"]
    assert any(r.get("fault") == "after" for r in sim.requests)
    # The client paces on the rate-limit headers, so even these polls are not refused.
    assert_none_refused(sim.requests[:applied])
    again = ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    assert "No changes." in again.stdout


@pytest.mark.parametrize(
    ("version", "backend"),
    [("2.34.2", ("--backend", "chats")), ("2.38.0", ())],
    ids=["v2.34-chats", "v2.38"],
)
def test_lost_responses_under_latency_and_rate_limits_on_chats(
    make_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...]
) -> None:
    from runner.coder.chats import ChatsClient
    from runner.coder.config import Connection

    sim = make_sim(version, latency_ms=15, rate_limit=12)
    env = sim_env(sim)
    # Workspace creates, chat creates and follow-ups whose responses are lost after the server
    # did the work, and failing list polls, all under a small rate limit.
    sim.faults.add(method="POST", path=r"/users/[^/]+/workspaces$", when="after", status=0)
    sim.faults.add(method="POST", path=r"^/api/[^/]+/chats$", when="after", times=2, status=0)
    sim.faults.add(method="POST", path=r"/messages$", when="after", times=2, status=0)
    sim.faults.add(method="GET", path=r"^/api/[^/]+/chats$", when="before", times=2, status=503)
    path = write_manifest(tmp_path, CHAOS)
    result = run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=env, timeout=120)
    applied = len(sim.requests)  # the apply's; the checks below are a fresh client of their own
    ok(result, sim)
    assert "adopted (created, response lost)" in result.stdout
    assert "not sent again" in result.stdout
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    chats = client.list_chats(labels={ownership.BATCH_LABEL: "chaos"})
    assert sorted(c.labels[ownership.ITEM_LABEL] for c in chats) == [f"t{i}" for i in range(4)]
    for chat in chats:
        sent = [m.text for m in client.history(chat.id) if m.role == "user" and m.text]
        n = chat.labels[ownership.ITEM_LABEL].removeprefix("t")
        assert sent == [f"job {n} [sim:work=1]", "one", "two"]
    assert not client.list_chats(labels={ownership.BATCH_LABEL: "chaos"}, archived=True)
    assert any(r.get("fault") == "after" for r in sim.requests)
    assert_none_refused(sim.requests[:applied])
    again = ok(run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=env), sim)
    assert "No changes." in again.stdout


def test_name_held_by_a_hand_made_task_is_blocked_not_adopted(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    body = (
        "version: 1\nbatch: nightly\ntasks:\n  - {name: a, prompt: mine, template: claude-code}\n"
    )
    path = write_manifest(tmp_path, body)
    # Same name as the batch would use, but made by hand: its display name is not the batch's.
    ok(run_tasks(["create", "--name", ownership.coder_name("nightly", "a"), "mine"], env=env), sim)
    plan = ok(run_tasks(["plan", path, "--replace"], env=env), sim)
    assert "! a" in plan.stdout and "does not own" in plan.stdout
    assert plan.stdout.rstrip().endswith("0 drifted, 1 blocked.")
    result = run_tasks(["apply", path, "--yes", "--replace", *FAST_WAITS], env=env)
    assert result.code == 1, result.output
    assert "blocked" in result.stdout
    assert [r for r in sim.requests if r["method"] == "DELETE"] == []
    assert len(created(sim)) == 1
