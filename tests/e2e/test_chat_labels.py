"""`labels:` on Coder Agents (chats) and `tasks list --label`, end to end.

The real command against the simulator over loopback; the simulator's chats are the witnesses.
Coder's label rules: CHATS-CONTRACT section 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, Result, ok, run_tasks, sim_env, write_manifest

BATCH = """\
version: 1
batch: web
defaults:
  timeout: 60s
  labels:
    team: web
    cost-center: "cc 42"
tasks:
  - name: "fix-{{ matrix.area }}"
    prompt: "Fix {{ matrix.area }} [sim:work=1]"
    labels:
      area: "{{ matrix.area }}"
    matrix:
      area: [login, billing]
  - name: docs
    prompt: "Write docs [sim:work=1]"
    labels:
      team: docs
"""


def tasks(args: list[str], sim: Any, timeout: float = 120) -> Result:
    return run_tasks(args, env=sim_env(sim), timeout=timeout)


def test_labels_reach_each_chat_and_list_filters_by_them(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, BATCH)
    ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    by_item = {c.labels["tasks/item"]: c for c in sim.chats.chats}
    assert {k: {n: v for n, v in c.labels.items() if not n.startswith("tasks/")}
            for k, c in by_item.items()} == {
        "fix-login": {"team": "web", "cost-center": "cc 42", "area": "login"},
        "fix-billing": {"team": "web", "cost-center": "cc 42", "area": "billing"},
        "docs": {"team": "docs", "cost-center": "cc 42"},
    }  # fmt: skip
    # The ownership labels are there beside them.
    assert all(c.labels["tasks/batch"] == "web" for c in by_item.values())
    web = ok(tasks(["list", "--label", "team=web", "-q"], sim), sim).stdout.split()
    assert sorted(web) == sorted([by_item["fix-login"].id, by_item["fix-billing"].id])
    both = ok(tasks(["list", "--label", "team=web", "--label", "area=billing", "-q"], sim), sim)
    assert both.stdout.split() == [by_item["fix-billing"].id]
    # A value may hold spaces; the filter reaches the server as `label=key:value`.
    listed = ok(tasks(["list", "--label", "cost-center=cc 42", "-o", "json"], sim), sim)
    assert len(json.loads(listed.stdout)) == 3
    assert any(
        "label=cost-center%3Acc+42" in e["query"] or "label=cost-center%3Acc%2042" in e["query"]
        for e in sim.exchanges
    )
    # Labels are set at create: a changed label is not drift.
    changed = write_manifest(tmp_path, BATCH.replace("team: docs", "team: writers"), "c.yaml")
    assert "No changes." in ok(tasks(["plan", changed], sim), sim).stdout


def test_a_reserved_or_invalid_label_is_a_located_error(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    body = BATCH.replace("    team: web\n", "    team: web\n    tasks/batch: other\n")
    body = body.replace("      team: docs\n", "      team docs: x\n")
    path = write_manifest(tmp_path, body)
    result = tasks(["plan", path], sim)
    assert result.code == 3, result.output
    lines = body.splitlines()
    reserved = lines.index("    tasks/batch: other") + 1
    spaced = lines.index("      team docs: x") + 1
    assert f"batch.tasks.yaml:{reserved}:" in result.stderr
    assert "label key 'tasks/batch' is reserved" in result.stderr
    assert f"batch.tasks.yaml:{spaced}:" in result.stderr
    assert "Traceback" not in result.output
    assert [e for e in sim.exchanges if e["method"] != "GET"] == []
    # A value over Coder's 256 bytes, once rendered.
    long = BATCH.replace('"cc 42"', '"{{ \\"x\\" * 257 }}"')
    result = tasks(["validate", write_manifest(tmp_path, long, "long.tasks.yaml")], sim)
    assert result.code == 3 and "label 'cost-center' is 257 bytes" in result.stderr


def test_labels_on_tasks_are_a_located_error(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    body = "version: 1\nbatch: one\ndefaults:\n  template: claude-code\n  backend: tasks\n"
    body += "tasks:\n  - name: fix\n    prompt: Fix it\n    labels: {team: web}\n"
    result = tasks(["apply", write_manifest(tmp_path, body), "--yes"], sim)
    assert result.code == 3, result.output
    assert "batch.tasks.yaml:7: task 'fix': `labels` need Chats" in result.stderr
    listed = tasks(["list", "--label", "team=web"], sim)
    assert listed.code == 3 and "--label filters chats" in listed.stderr
    assert [e for e in sim.exchanges if e["method"] != "GET"] == []
