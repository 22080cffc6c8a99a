"""The session token never reaches an agent: not by `--env`, a `--var`, nor a typed prompt.

Refused with a located one-line error and exit 3 before anything is sent, on Tasks and Chats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ok, run_tasks, sim_env, write_manifest

BODY = """\
version: 1
batch: leak
defaults: {template: claude-code, timeout: 30s}
tasks:
  - name: a
    prompt: "hello"
  - name: b
    prompt: "use {{ vars.key }} please"
    follow_ups: ["and {{ env.SECRET }}"]
"""
ENV_BODY = """\
version: 1
batch: leak
tasks:
  - name: a
    prompt: "token: {{ env.CODER_SESSION_TOKEN }}"
"""


def writes(sim: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sim.requests if r["method"] != "GET"]


def refused(result: Any, sim: Any) -> str:
    assert result.code == 3, result.output
    assert sim.token not in result.output
    assert "Traceback" not in result.output
    return result.output


def test_env_naming_the_token_is_refused_offline(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    path = write_manifest(tmp_path, ENV_BODY)
    for command in ("render", "validate"):
        out = refused(
            run_tasks([command, path, "--env", "CODER_SESSION_TOKEN"], env=sim_env(sim)), sim
        )
        assert "--env CODER_SESSION_TOKEN: the value holds the session token" in out
    # Another name holding the same value is the token all the same.
    env = {**sim_env(sim), "SECRET": sim.token}
    other = write_manifest(tmp_path, BODY.replace("{{ vars.key }}", "x"), "other.tasks.yaml")
    out = refused(run_tasks(["render", other, "--env", "SECRET"], env=env), sim)
    assert "--env SECRET: the value holds the session token" in out


@pytest.mark.parametrize(
    ("version", "backend"),
    [("2.34.2", "tasks"), ("2.34.2", "chats"), ("2.38.0", "auto")],
    ids=["v2.34-tasks", "v2.34-chats", "v2.38"],
)
def test_a_prompt_holding_the_token_is_refused_before_anything_is_sent(
    make_sim: Any, tmp_path: Path, version: str, backend: str
) -> None:
    sim = make_sim(version)
    env = {**sim_env(sim), "SECRET": "harmless"}
    path = write_manifest(tmp_path, BODY)
    args = ["--var", f"key={sim.token}", "--env", "SECRET", "--backend", backend]
    for command in (["plan", path], ["apply", path, "--yes"]):
        out = refused(run_tasks([*command, *args], env=env), sim)
        # Located at task b's entry, naming the field; task a is fine.
        assert "batch.tasks.yaml:7: task 'b': its prompt holds the session token" in out
        assert "task 'a'" not in out
    assert writes(sim) == []


def test_create_and_send_refuse_the_token(make_sim: Any) -> None:
    sim = make_sim("2.34.2")
    env = sim_env(sim)
    out = refused(run_tasks(["create", "--name", "leaky", f"here: {sim.token}"], env=env), sim)
    assert "holds the session token" in out
    assert not [w for w in writes(sim) if w[0] == "POST"]
    ok(run_tasks(["create", "--name", "fine", "hello"], env=env), sim)
    before = len(writes(sim))
    sent = run_tasks(["send", "fine", f"x {sim.token}", "--poll-interval", "50ms"], env=env)
    assert "holds the session token" in refused(sent, sim)
    assert len(writes(sim)) == before
