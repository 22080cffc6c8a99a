"""Follow-ups on chats whose history holds more `user` messages than the batch sent.

On v2.32 to v2.34 Coder stores a bound workspace's context (AGENTS.md, skills) as a `user`
message without text, after the first prompt (CHATS-CONTRACT 7.2; `release/2.32` chatd.go,
about line 5255). `tasks apply --backend chats` must deliver every follow-up exactly once and
in order all the same, with a lost send on the way, and a second apply must change nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

BATCH = """\
version: 1
batch: ctx
defaults:
  template: claude-code
  template_version: v1
  preset: Large
  timeout: 60s
tasks:
  - name: auth
    prompt: "Add auth [sim:work=1]"
    follow_ups:
      - "Please also add unit tests. [sim:work=1]"
      - "And docs."
  - name: billing
    prompt: "Fix billing [sim:work=1]"
    follow_ups:
      - "continue"
      - "continue"
"""
SENT = {
    "auth": ["Add auth [sim:work=1]", "Please also add unit tests. [sim:work=1]", "And docs."],
    "billing": ["Fix billing [sim:work=1]", "continue", "continue"],
}


def writes(sim: Any, since: int = 0) -> list[tuple[str, str, int]]:
    return [
        (r["method"], r["path"], r["status"])
        for r in sim.requests[since:]
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
    ]


@pytest.mark.parametrize(("version", "experiments"), [("2.34.2", ()), ("2.32.1", ("agents",))])
def test_follow_ups_are_delivered_once_and_in_order_beside_workspace_context(
    make_sim: Any, tmp_path: Path, version: str, experiments: tuple[str, ...]
) -> None:
    sim = make_sim(version, experiments=experiments)
    # The answer to the first follow-up sent is lost: the history, not a resend, settles it.
    sim.faults.add(method="POST", path=r"/chats/[^/]+/messages$", when="after", status=0)
    path = write_manifest(tmp_path, BATCH)
    args = ["apply", path, "--yes", "--backend", "chats", *FAST_WAITS]
    first = ok(run_tasks(args, env=sim_env(sim), timeout=120), sim)
    assert "Apply: 2 ok" in first.stdout, first.stdout
    assert any(r.get("fault") == "after" for r in sim.requests)

    coder = ChatsClient(Connection(url=sim.url, token=sim.token))
    chats = {c.labels[LABEL_ITEM]: c for c in coder.list_chats(labels={LABEL_BATCH: "ctx"})}
    assert set(chats) == set(SENT)
    for item, chat in chats.items():
        history = coder.history(chat.id)
        users = [m for m in history if m.role == "user"]
        # Exactly what the batch sent, once each, in order; the context right after the prompt.
        assert [m.text for m in users if m.text] == SENT[item]
        context = users[1]
        assert context.text == "" and "created_by" not in context.raw
        assert [p.type for p in context.parts] == ["context-file", "skill"]
        assert [m.role for m in history[:2]] == ["user", "user"]
        assert coder.get_chat(chat.id).raw["last_injected_context"] == context.raw["content"]

    mark = len(sim.requests)
    second = ok(run_tasks(args, env=sim_env(sim), timeout=120), sim)
    assert "2 unchanged" in second.stdout, second.stdout
    assert writes(sim, mark) == []
