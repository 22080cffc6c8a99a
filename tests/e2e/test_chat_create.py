"""`tasks create` on Coder Agents (chats), end to end: one chat on the model and with the labels
asked for, found again by its name, adopted after a lost answer (CHATS-CONTRACT 1.3, 2, 7.3)."""

from __future__ import annotations

import json
from typing import Any

from conftest import Result, ok, run_tasks, sim_env

PROMPT = "Fix the login bug [sim:work=1]"


def tasks(args: list[str], sim: Any) -> Result:
    return run_tasks(args, env=sim_env(sim), timeout=60)


def model_id(sim: Any, name: str) -> str:
    return next(c.id for c in sim.chats.models if c.model == name)


def test_create_with_model_labels_and_name_then_status_by_name(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    args = ["create", "--model", "GPT-5", "--label", "team=web", "--name", "fix-login", PROMPT]
    created = ok(tasks(args, sim), sim)
    (chat,) = sim.chats.chats
    assert chat.model_config_id == model_id(sim, "gpt-5")
    assert chat.labels == {"team": "web", "tasks/name": "fix-login"}
    assert f"/agents/{chat.id}" in created.stdout
    status = ok(tasks(["status", "fix-login", "-o", "json"], sim), sim)
    assert json.loads(status.stdout)["id"] == chat.id
    # The same name again is refused, not a second chat.
    again = tasks(args, sim)
    assert again.code == 3 and f'a chat named "fix-login" exists already: {chat.id}' in again.stderr
    assert len(sim.chats.chats) == 1
    quiet = ok(tasks(["create", "-q", "Another one [sim:work=1]"], sim), sim)
    assert quiet.stdout.strip() == sim.chats.chats[1].id


def test_a_lost_create_answer_is_adopted_once(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    sim.faults.add(method="POST", path="/api/v2/chats$", when="after")
    created = ok(tasks(["create", "--name", "fix-login", "-q", PROMPT], sim), sim)
    (chat,) = sim.chats.chats
    assert created.stdout.strip() == chat.id


def test_an_unknown_model_creates_nothing(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    result = tasks(["create", "--model", "gpt-6", PROMPT], sim)
    assert result.code == 3, result.output
    assert "model 'gpt-6' not found; models you may use: Claude Sonnet" in result.stderr
    assert sim.chats.chats == []


def test_model_and_label_on_tasks_are_refused(make_sim: Any) -> None:
    sim = make_sim("2.34.2")
    result = tasks(["create", "--template", "claude-code", "--model", "gpt-5", PROMPT], sim)
    assert result.code == 3 and "--model and --label need Chats" in result.stderr
