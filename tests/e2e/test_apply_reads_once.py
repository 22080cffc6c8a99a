"""What a batch reads once: the token's user is read once per command, whatever needs it
(preflight's owner `me`, ownership, the observation), on Chats and on Tasks.

Counted on the simulator's side (its request log), for `apply` and `plan`.
"""

from __future__ import annotations

from dataclasses import replace
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


def model_lists(sim: Any) -> int:
    """Reads of the deployment's models: `model-configs` before v2.37, then the organization's
    `chats/models` (CHATS-CONTRACT 7.3)."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "GET" and r["path"].endswith(("/model-configs", "/chats/models"))
    )


@pytest.mark.parametrize("version", ["2.38.0", "2.34.2"])
def test_the_models_are_read_only_for_a_model_named_or_a_create_without_one(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    """Coder refuses a create that names no model where no default is configured (7.3), so
    preflight checks the default only when something is created; a named model is resolved."""
    sim = make_sim(version)
    env = sim_env(sim)
    path = write_manifest(tmp_path, BATCH)
    apply = ["apply", path, "--yes", "--backend", "chats", *FAST_WAITS]
    ok(run_tasks(apply, env=env), sim)
    assert model_lists(sim) == 1  # two creates, no model named: is there a default?
    for args in (apply, ["plan", path, "--backend", "chats"]):
        sim.request_log.clear()
        ok(run_tasks(args, env=env), sim)  # nothing to create, no model named
        assert model_lists(sim) == 0, args
    named = write_manifest(tmp_path, BATCH.replace("timeout: 60s", "timeout: 60s, model: gpt-5"))
    sim.request_log.clear()
    ok(run_tasks(["plan", named, "--backend", "chats"], env=env), sim)  # the model is drift
    assert model_lists(sim) == 1


def test_no_model_and_no_default_is_refused_only_where_a_chat_is_created(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    env = sim_env(sim)
    path = write_manifest(tmp_path, BATCH)
    ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    with sim.chats.lock:  # the deployment's default model is unset
        sim.chats.models = tuple(replace(m, is_default=False) for m in sim.chats.models)
    ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)  # creates nothing
    more = write_manifest(tmp_path, BATCH.replace("n: [1, 2]", "n: [1, 2, 3]"))
    sim.request_log.clear()
    refused = run_tasks(["apply", more, "--yes", *FAST_WAITS], env=env)
    assert refused.code == 3, refused.output
    assert "task 'job-3': no model given and the deployment has no default" in refused.output
    assert "Traceback" not in refused.output
    assert not [r for r in sim.requests if r["method"] == "POST"]  # nothing created
