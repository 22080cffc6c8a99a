"""What a batch reads once: the token's user is read once per command, whatever needs it
(preflight's owner `me`, ownership, the observation), on Chats and on Tasks.

Counted on the simulator's side (its request log), for `apply` and `plan`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

BATCH = """\
version: 1
batch: once
defaults: {template: claude-code, timeout: 60s}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=1]"
    matrix:
      n: [1, 2]
"""

VERSIONS = pytest.mark.parametrize(
    ("version", "backend"),
    [("2.38.0", "chats"), ("2.34.2", "chats"), ("2.34.2", "tasks")],
    ids=["v2.38", "v2.34-chats", "v2.34-tasks"],
)


def reads(sim: Any, path: str) -> int:
    return sum(1 for r in sim.requests if r["method"] == "GET" and r["path"] == path)


@VERSIONS
@pytest.mark.parametrize("command", ["apply", "plan"])
def test_a_batch_command_reads_the_token_user_once(
    make_sim: Any, tmp_path: Path, version: str, backend: str, command: str
) -> None:
    sim = make_sim(version)
    path = write_manifest(tmp_path, BATCH)
    args = [
        command,
        path,
        "--backend",
        backend,
        *(["--yes", *FAST_WAITS] if command == "apply" else []),
    ]
    ok(run_tasks(args, env=sim_env(sim)), sim)
    assert reads(sim, "/api/v2/users/me") == 1
