"""The Chats backend's own ownership checks, without the server's help.

The batch lists its chats with `label=tasks/batch:<batch>`, so a server that filters (every Coder
release: CHATS-CONTRACT 1.5) never shows it a foreign chat, and a client that forgot to check the
labels itself would pass every other test. Here the simulator's test-only fault
`ignore_label_filter` (runner/sim/faults.py) answers the list with every chat of the user: another
batch's chat of the same item name, a chat naming the item with no batch label, and a chat whose
title reads like the batch's. `apply`, `apply --prune` and `destroy` must neither adopt, send to,
nor archive any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

BATCH = """\
version: 1
batch: guarded
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: auth
    prompt: "Add auth [sim:work=1]"
    follow_ups:
      - "Please also add unit tests."
  - name: docs
    prompt: "Write the docs [sim:work=1]"
"""
ONLY_AUTH = BATCH.split("  - name: docs")[0]


def tasks(args: list[str], sim: Any) -> Any:
    waits = FAST_WAITS if args[0] == "apply" else ()
    return ok(run_tasks([*args, *waits], env=sim_env(sim), timeout=120), sim)


def foreign_chats(coder: ChatsClient) -> dict[str, str]:
    """Chats of the token's user the batch `guarded` does not own, by what they are."""
    made = {
        "other batch": coder.create_chat(
            "Add auth [sim:work=1]", labels={LABEL_BATCH: "guarded-2", LABEL_ITEM: "auth"}
        ),
        "no batch label": coder.create_chat("Add auth [sim:work=1]", labels={LABEL_ITEM: "auth"}),
        "other batch, docs": coder.create_chat(
            "Write the docs [sim:work=1]", labels={LABEL_BATCH: "guarded-2", LABEL_ITEM: "docs"}
        ),
        "title only": coder.create_chat("Write the docs [sim:work=1]", title="guarded: docs"),
    }
    return {what: chat.id for what, chat in made.items()}


def sent(coder: ChatsClient, ids: dict[str, str]) -> dict[str, list[str]]:
    """What was sent to each foreign chat (its agents keep answering meanwhile: not counted)."""
    return {
        chat: [m.text for m in coder.history(chat) if m.role == "user" and m.text]
        for chat in ids.values()
    }


def touched(sim: Any, ids: dict[str, str], since: int = 0) -> list[str]:
    """Every write the simulator answered that names one of the foreign chats."""
    return [
        f"{r['method']} {r['path']}"
        for r in sim.requests[since:]
        if r["method"] != "GET" and any(chat in r["path"] for chat in ids.values())
    ]


def test_apply_prune_and_destroy_leave_foreign_chats_alone_when_the_server_ignores_labels(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    coder = ChatsClient(Connection(url=sim.url, token=sim.token))
    foreign = foreign_chats(coder)
    sim.faults.ignore_label_filter = True
    # The fault is on: an unfiltered list shows the foreign chats to the batch.
    assert set(foreign.values()) <= {c.id for c in coder.list_chats(labels={LABEL_BATCH: "x"})}
    before = sent(coder, foreign)

    path = write_manifest(tmp_path, BATCH)
    first = tasks(["apply", path, "--yes"], sim)
    assert "Plan: 2 to create, 0 to update, 0 to delete" in first.stdout, first.stdout
    assert touched(sim, foreign) == []
    assert sent(coder, foreign) == before

    mark = len(sim.requests)
    again = tasks(["apply", path, "--yes"], sim)
    assert "Apply: 0 ok, 0 deleted, 2 unchanged" in again.stdout, again.stdout
    assert touched(sim, foreign, mark) == []

    pruned = tasks(
        ["apply", write_manifest(tmp_path, ONLY_AUTH, "b.yaml"), "--yes", "--prune"], sim
    )
    assert "Plan: 0 to create, 0 to update, 1 to delete" in pruned.stdout, pruned.stdout
    destroyed = tasks(["destroy", path, "--yes"], sim)
    assert "0 to create, 0 to update, 1 to delete" in destroyed.stdout, destroyed.stdout
    assert touched(sim, foreign) == []
    live = {c.id for c in coder.list_chats()}
    assert set(foreign.values()) <= live  # none archived
    sim.faults.ignore_label_filter = False
    assert coder.list_chats(labels={LABEL_BATCH: "guarded"}) == []
