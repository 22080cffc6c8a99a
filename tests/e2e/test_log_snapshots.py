"""Follow-up delivery judged from a paused task's log snapshot (v2.31.1+).

A paused, pending or initializing task answers `logs` with a stored snapshot, not the live
transcript (CONTRACT 3.2), and Coder keeps at most 64 KiB of it (CONTRACT section 1, the agent's
log-snapshot upload; `taskSnapshotMaxSize` in `coderd/aitasks.go`, v2.31.1), so the agent
uploads only its newest messages. A snapshot counts delivered follow-ups only when it starts with
the initial prompt; otherwise delivery is unverified, and apply checks the live logs (after
resuming the task) before each send. `[sim:output-kib=N]` makes the simulated agent's reply long,
`[sim:no-snapshot]` makes its upload fail (`{"logs": [], "snapshot": true}`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_tasks, sim_env

from runner import ownership

FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms"]
FOLLOW_UPS = ["First follow-up [sim:work=1]{out}", "Second follow-up [sim:work=1]{out}"]
THIRD = "Third follow-up [sim:work=1]"


def batch(prompt: str, follow_ups: list[str]) -> str:
    lines = "".join(f"      - {json.dumps(f)}\n" for f in follow_ups)
    return (
        "version: 1\nbatch: snap\ndefaults: {template: claude-code, timeout: 60s}\n"
        f"tasks:\n  - name: work\n    prompt: {json.dumps(prompt)}\n    follow_ups:\n{lines}"
    )


def send_count(sim: Any) -> int:
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST" and r["path"].endswith("/send") and r["status"] == 204
    )


def logs(env: dict[str, str], name: str) -> tuple[list[dict[str, Any]], str]:
    result = run_tasks(["logs", name, "-o", "json"], env=env)
    assert result.code == 0, result.output
    # No entries: Coder's CLI prints only "No task logs found." on stderr (golden files).
    entries: list[dict[str, Any]] = json.loads(result.stdout) if result.stdout.strip() else []
    return entries, result.stderr


@pytest.mark.parametrize(
    ("case", "prompt", "out"),
    [
        ("truncated", "Build it [sim:work=1]", " [sim:output-kib=40]"),
        ("empty", "Build it [sim:work=1] [sim:no-snapshot]", ""),
        ("whole", "Build it [sim:work=1]", ""),
    ],
)
def test_follow_ups_after_a_pause_are_sent_once_each(
    make_sim: Any, tmp_path: Path, case: str, prompt: str, out: str
) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    follow_ups = [f.format(out=out) for f in FOLLOW_UPS]
    first = tmp_path / "first.tasks.yaml"
    first.write_text(batch(prompt, follow_ups))
    applied = run_tasks(["apply", str(first), "--yes", *FAST], env=env)
    assert applied.code == 0, applied.output
    assert send_count(sim) == 2
    name = ownership.coder_name("snap", "work")
    paused = run_tasks(["pause", name, "--yes"], env=env)
    assert paused.code == 0, paused.output

    # What the paused task's logs show: the snapshot.
    entries, warning = logs(env, name)
    contents = [e["content"] for e in entries if e["type"] == "input"]
    if case == "truncated":
        # 2 long replies do not fit in 64 KiB: only the newest messages were kept.
        assert entries[0]["id"] > 0
        assert contents == [follow_ups[1]]
        assert "Showing last 2 messages from snapshot" in warning
    elif case == "empty":
        assert entries == [] and "No snapshot available" in warning
    else:
        assert contents == [prompt, *follow_ups]

    second = tmp_path / "second.tasks.yaml"
    second.write_text(batch(prompt, [*follow_ups, THIRD]))
    plan = run_tasks(["plan", str(second)], env=env)
    assert plan.code == 0, plan.output
    if case == "whole":
        assert "send 1 follow-up (2 of 3 already delivered)" in plan.stdout
    else:
        assert "send 3 follow-ups unless the logs show them delivered" in plan.stdout
        assert "delivery unverified" in plan.stdout
        if case == "truncated":
            assert "does not reach back to its initial prompt" in plan.stdout

    applied = run_tasks(["apply", str(second), "--yes", *FAST], env=env)
    assert applied.code == 0, applied.output
    assert "resum" in applied.stdout
    assert "sent follow-up 3/3" in applied.stdout
    if case != "whole":
        assert "the logs show 2 follow-up(s) delivered; not sent again" in applied.stdout
    # Neither re-sent nor skipped: the live transcript has each input once, in order.
    assert send_count(sim) == 3
    entries, _ = logs(env, name)
    assert [e["content"] for e in entries if e["type"] == "input"] == [
        prompt,
        *follow_ups,
        THIRD,
    ]
