"""`model:` and `--model` on Coder Agents (chats), and `tasks models`, end to end.

The real command against the simulator over loopback (CHATS-CONTRACT 7.3: `model_config_id` on
create and on send; the model configs before v2.37, the organization's models from v2.37). The
simulator's request bodies and stored messages are the witnesses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, Result, ok, run_tasks, sim_env, write_manifest

from runner.backends.chats import LABEL_ITEM

MATRIX = """\
version: 1
batch: models
defaults:
  timeout: 60s
tasks:
  - name: "fix-{{{{ matrix.slug }}}}"
    prompt: "Fix the login bug [sim:work=1]"
    follow_ups:
      - "Now add a test."
    model: "{{{{ matrix.model }}}}"
    matrix:
      slug: [sonnet, haiku, gpt]
      include:
        - slug: sonnet
          model: claude-sonnet-4-5
        - slug: haiku
          model: Claude Haiku
        - slug: gpt
          model: {gpt_id}
"""
ONE = """\
version: 1
batch: one
tasks:
  - name: fix
    prompt: "Fix it [sim:work=1]"
{model}"""


def tasks(args: list[str], sim: Any, timeout: float = 120) -> Result:
    return run_tasks(args, env=sim_env(sim), timeout=timeout)


def config_ids(sim: Any) -> dict[str, str]:
    """The simulator's model configs: model name -> id."""
    return {c.model: c.id for c in sim.chats.models}


def chats_by_item(sim: Any) -> dict[str, Any]:
    return {c.labels[LABEL_ITEM]: c for c in sim.chats.chats if not c.archived}


def chat_writes(sim: Any, since: int = 0) -> list[tuple[str, str, dict[str, Any]]]:
    """Creates and sends the simulator accepted, with their bodies."""
    return [
        (e["method"], e["path"], json.loads(e["body"]))
        for e in sim.exchanges[since:]
        if e["method"] == "POST" and "/chats" in e["path"] and e["status"] in (200, 201)
    ]


def test_a_matrix_over_three_models_runs_every_turn_on_its_model(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    ids = config_ids(sim)
    # One model by its name, one by its display name, one by its ID.
    path = write_manifest(tmp_path, MATRIX.format(gpt_id=ids["gpt-5"]))
    applied = ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    assert "Apply: 3 ok" in applied.stdout
    wanted = {
        "fix-sonnet": ids["claude-sonnet-4-5"],
        "fix-haiku": ids["claude-haiku-4-5"],
        "fix-gpt": ids["gpt-5"],
    }
    chats = chats_by_item(sim)
    assert set(chats) == set(wanted)
    for item, chat in chats.items():
        users = [m for m in chat.messages if m.role == "user"]
        assert len(users) == 2  # the prompt and the follow-up
        assert {m.model_config_id for m in users} == {wanted[item]}
        assert chat.model_config_id == wanted[item]
    # Sent on the create and on every follow-up, not left to the chat's current model.
    bodies = chat_writes(sim)
    assert len(bodies) == 6
    by_chat = {c.id: item for item, c in chats.items()}
    for _, route, body in bodies:
        # A create names its item in its labels; a follow-up's route names its chat.
        sent = route.endswith("/messages")
        item = by_chat[route.split("/")[4]] if sent else body["labels"][LABEL_ITEM]
        assert body["model_config_id"] == wanted[item]
    # Converged: a second apply changes nothing.
    mark = len(sim.exchanges)
    again = ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    assert "3 unchanged" in again.stdout
    assert chat_writes(sim, mark) == []


def test_an_unknown_model_stops_at_preflight_naming_the_usable_ones(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    body = MATRIX.format(gpt_id="gpt-6")
    path = write_manifest(tmp_path, body)
    result = tasks(["apply", path, "--yes", *FAST_WAITS], sim)
    assert result.code == 3, result.output
    line = next(n for n, text in enumerate(body.splitlines(), 1) if "- name:" in text)
    assert f"batch.tasks.yaml:{line}:" in result.stderr
    assert "model 'gpt-6' not found; models you may use: Claude Sonnet (claude-sonnet-4-5)" in (
        result.stderr
    )
    # The disabled config is not one the user may use (v2.37+ does not list it; 7.3).
    assert "GPT-5 (gpt-5)" in result.stderr and "Opus" not in result.stderr
    assert sim.chats.chats == [] and chat_writes(sim) == []
    assert [e for e in sim.exchanges if e["method"] != "GET"] == []


def test_a_disabled_model_is_refused_before_anything_is_created(
    make_sim: Any, tmp_path: Path
) -> None:
    # Before v2.37 `model-configs` shows a site owner the disabled configs too (1.11).
    sim = make_sim("2.36.0")
    path = write_manifest(tmp_path, ONE.format(model="    model: Claude Opus\n"))
    result = tasks(["plan", path, "--backend", "chats"], sim)
    assert result.code == 3, result.output
    assert "batch.tasks.yaml:4: task 'fix': model 'Claude Opus' is disabled" in result.stderr
    assert [e for e in sim.exchanges if e["method"] != "GET"] == []


def test_command_line_model_wins_and_a_changed_model_is_drift(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    ids = config_ids(sim)
    path = write_manifest(tmp_path, ONE.format(model="    model: claude-haiku-4-5\n"))
    ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    (old,) = chats_by_item(sim).values()
    assert old.model_config_id == ids["claude-haiku-4-5"]
    planned = ok(tasks(["plan", path, "--model", "gpt-5"], sim), sim)
    assert "model differs from 'gpt-5'" in planned.stdout
    replaced = tasks(["apply", path, "--yes", "--replace", "--model", "GPT-5", *FAST_WAITS], sim)
    ok(replaced, sim)
    (new,) = chats_by_item(sim).values()
    assert new.id != old.id and new.model_config_id == ids["gpt-5"]
    # Without a model in the manifest nothing is compared: the chat keeps its model.
    unnamed = write_manifest(tmp_path, ONE.format(model=""), "unnamed.tasks.yaml")
    assert "No changes. The deployment matches batch 'one'." in (
        ok(tasks(["plan", unnamed], sim), sim).stdout
    )


def test_model_on_a_tasks_backend_is_a_located_error(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.34.2")
    body = "version: 1\nbatch: one\ndefaults:\n  template: claude-code\n  backend: tasks\n"
    body += "tasks:\n  - name: fix\n    prompt: Fix it\n    model: gpt-5\n"
    path = write_manifest(tmp_path, body)
    for args in (["plan", path], ["apply", path, "--yes"], ["validate", path]):
        result = tasks(args, sim)
        assert result.code == 3, result.output
        assert "batch.tasks.yaml:7: task 'fix': `model` 'gpt-5' needs Chats" in result.stderr
        assert "Traceback" not in result.output
    assert [e for e in sim.exchanges if e["method"] != "GET"] == []


@pytest.mark.parametrize("version", ["2.34.2", "2.38.0"], ids=["v2.34", "v2.38"])
def test_models_lists_ids_names_providers_and_the_default(make_sim: Any, version: str) -> None:
    sim = make_sim(version)
    ids = config_ids(sim)
    table = ok(tasks(["models"], sim), sim).stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "DISPLAY", "NAME", "PROVIDER", "DEFAULT", "ENABLED"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[ids["claude-sonnet-4-5"]][1:] == [
        "claude-sonnet-4-5",
        "Claude",
        "Sonnet",
        "anthropic",
        "yes",
        "yes",
    ]
    assert rows[ids["gpt-5"]][1:] == ["gpt-5", "GPT-5", "openai", "yes"]
    listed = json.loads(ok(tasks(["models", "-o", "json"], sim), sim).stdout)
    by_id = {m["id"]: m for m in listed}
    assert by_id[ids["claude-haiku-4-5"]] == {
        "id": ids["claude-haiku-4-5"],
        "model": "claude-haiku-4-5",
        "display_name": "Claude Haiku",
        "provider": "anthropic",
        "is_default": False,
        "enabled": True,
    }
    assert [m["model"] for m in listed if m["is_default"]] == ["claude-sonnet-4-5"]
    # v2.34 lists every config to a site owner, the disabled one included (1.11); v2.37+ only
    # the ones the caller may use (7.3).
    opus = ids["claude-opus-4-1"] in by_id
    assert opus == (version == "2.34.2")
    route = "/api/v2/organizations/" if version == "2.38.0" else "/api/experimental/chats/model"
    assert any(e["path"].startswith(route) for e in sim.exchanges)


def test_a_saved_plan_carries_each_model_and_refuses_another(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    ids = config_ids(sim)
    path = write_manifest(tmp_path, ONE.format(model="    model: Claude Haiku\n"))
    saved = tmp_path / "plan.json"
    ok(tasks(["plan", path, "--out", str(saved)], sim), sim)
    desired = json.loads(saved.read_text())["desired"]
    assert [d["model"] for d in desired] == ["Claude Haiku"]
    refused = tasks(["apply", str(saved), "--yes", "--model", "gpt-5"], sim)
    assert refused.code == 3 and "--model does not apply" in refused.stderr
    ok(tasks(["apply", str(saved), "--yes", *FAST_WAITS], sim), sim)
    (chat,) = chats_by_item(sim).values()
    assert chat.model_config_id == ids["claude-haiku-4-5"]
    # A plan of a batch without models is written as before: no `model` key at all.
    unnamed = write_manifest(tmp_path, ONE.format(model=""), "unnamed.tasks.yaml")
    document = json.loads(ok(tasks(["plan", unnamed, "-o", "json"], sim), sim).stdout)
    assert all("model" not in d and "labels" not in d for d in document["desired"])
