"""A batch over three models ends with the model comparison, end to end.

The real `tasks apply` against a simulated v2.38 (Chats only): a matrix runs the same work on
three models (CHATS-CONTRACT 7.3, `model_config_id` on create), the simulated agents differ
(`[sim:pr]` opens a pull request, `[sim:error]` ends a turn in `error`: runner/sim/chats/
directives.py), and the terminal, the JSON report and the step summary compare them per model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

from runner.backends.chats import LABEL_ITEM
from runner.money import usd

PRICE = 12_345  # USD micros per model request

MATRIX = """\
version: 1
batch: compare
defaults:
  timeout: 60s
tasks:
  - name: "{{ matrix.repo }}-{{ matrix.slug }}"
    prompt: "Fix the flaky tests in {{ matrix.repo }} [sim:work=1] {{ matrix.steer }}"
    model: "{{ matrix.model }}"
    matrix:
      slug: [sonnet, haiku, gpt]
      repo: [api, web]
      include:
        - {slug: sonnet, model: claude-sonnet-4-5, steer: "[sim:pr]"}
        - {slug: haiku, model: Claude Haiku, steer: ""}
        - {slug: gpt, model: gpt-5, steer: ""}
        - {slug: gpt, repo: web, steer: "[sim:error]"}
"""
# model, tasks, ok, failed, pull requests, lines added, lines removed
WANTED = {
    "claude-sonnet-4-5": ("2", "2", "0", "2", "+24", "-6"),
    "claude-haiku-4-5": ("2", "2", "0", "0", "+0", "-0"),
    "gpt-5": ("2", "1", "1", "0", "+0", "-0"),
}


def test_a_matrix_over_three_models_ends_with_their_comparison(
    make_sim: Any, tmp_path: Path
) -> None:
    # The simulated AI Gateway prices each model request (CHATS-CONTRACT 7.4).
    sim = make_sim("2.38.0", request_price_micros=PRICE)
    path = write_manifest(tmp_path, MATRIX)
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    env = {**sim_env(sim), "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["apply", path, "--yes", "--report", str(report), *FAST_WAITS]
    applied = ok(run_tasks(args, env=env, timeout=120), sim, code=4)  # one task failed
    # The simulator ran each chat on its model; the pull requests are its own.
    models = {c.id: c.model for c in sim.chats.models}
    chats = {c.labels[LABEL_ITEM]: c for c in sim.chats.chats}
    assert {item: models[c.model_config_id] for item, c in chats.items()} == {
        "api-sonnet": "claude-sonnet-4-5",
        "web-sonnet": "claude-sonnet-4-5",
        "api-haiku": "claude-haiku-4-5",
        "web-haiku": "claude-haiku-4-5",
        "api-gpt": "gpt-5",
        "web-gpt": "gpt-5",
    }

    # What each model's chats cost, as the simulator's cost route answers it.
    admin = next(u for u in sim.directory.users if u.username == "admin")
    spent: dict[str, int] = {}
    for chat in chats.values():
        micros = sim.chats.cost(admin, chat.id)["total_cost_micros"]
        spent[models[chat.model_config_id]] = spent.get(models[chat.model_config_id], 0) + micros
    assert all(spent.values())

    lines = applied.stdout.splitlines()
    start = lines.index("Models compared:")
    header, *rows = lines[start + 1 : start + 5]
    assert header.split() == [
        "MODEL", "TASKS", "OK", "FAILED", "MEDIAN", "COST", "PRS", "ADDED", "REMOVED"
    ]  # fmt: skip
    shown = {row.split()[0]: row.split() for row in rows}
    assert set(shown) == set(WANTED)
    for model, (tasks, good, failed, prs, added, removed) in WANTED.items():
        cells = shown[model]
        assert cells[1:4] == [tasks, good, failed], cells
        assert cells[4].endswith("s")  # a median duration was measured
        assert cells[5] == usd(spent[model])
        assert cells[6:] == [prs, added, removed], cells

    document = json.loads(report.read_text())
    by_model = {row["model"]: row for row in document["comparison"]}
    assert set(by_model) == set(WANTED)
    for model, (tasks, good, failed, prs, added, removed) in WANTED.items():
        row = by_model[model]
        assert (row["tasks"], row["ok"], row["failed"]) == (int(tasks), int(good), int(failed))
        assert (row["pull_requests"], row["additions"]) == (int(prs), int(added))
        assert row["deletions"] == -int(removed) and row["median_seconds"] > 0
        assert (row["cost_micros"], row["cost_unknown"]) == (spent[model], 0)

    markdown = summary.read_text()
    table = markdown[markdown.index("#### Models") :].splitlines()
    assert table[2] == "| Model | Tasks | Ok | Failed | Median | Cost | Prs | Added | Removed |"
    gpt = next(line for line in table if line.startswith("| gpt-5 |"))
    assert gpt.split(" | ")[1:4] == ["2", "1", "1"]
