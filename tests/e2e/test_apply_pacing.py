"""A large apply against a small rate limit: paced on Coder's rate-limit headers, never refused.

The simulator limits as Coder does (httprate's sliding window over fixed one-minute windows,
CONTRACT 9.3), scaled by the test time scale. The witness for "no 429" is the simulator's own
request log, not the client's word.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import run_tasks, sim_env

LIMIT = 20
CREATES = 60
#: A 3 s window: pacing steps of 150 ms, so a loaded test machine's scheduling delays (which a
#: real one-minute window dwarfs) cannot move a request into the neighbouring window.
TIME_SCALE = 0.05


@pytest.mark.parametrize("version", ["2.31.9", "2.34.2"])
def test_many_creates_under_a_small_limit_meet_no_429(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    sim = make_sim(version, rate_limit=LIMIT, time_scale=TIME_SCALE)
    window = 60 * TIME_SCALE
    path = tmp_path / "many.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: many\ndefaults: {template: claude-code, wait: none}\ntasks:\n"
        '  - name: "job-{{ matrix.n }}"\n    prompt: "job {{ matrix.n }}"\n'
        f"    matrix: {{n: [{', '.join(str(n) for n in range(CREATES))}]}}\n"
    )
    started = time.monotonic()
    result = run_tasks(
        ["apply", str(path), "--yes", "--parallelism", "8"], env=sim_env(sim), timeout=120
    )
    took = time.monotonic() - started
    assert result.code == 0, result.output
    creates = [r for r in sim.requests if r["method"] == "POST" and "/tasks/" in r["path"]]
    assert [r["status"] for r in creates] == [201] * CREATES
    assert [r for r in sim.requests if r["status"] == 429] == []
    # The limit's bound: the first window's budget at once, then LIMIT per window. Allow the
    # first window, one step learnt at Coder's 60 s before the scaled window is known, and
    # start-up; unpaced, the same apply meets 429s and waits a full window for each.
    bound = window + (CREATES - LIMIT) * window / LIMIT
    assert took < 1.5 * bound + 60 / LIMIT + 5, (took, bound)
