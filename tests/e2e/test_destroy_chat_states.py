"""`tasks destroy` on chats Coder will not archive as they are (CHATS-CONTRACT 7.2).

Coder archives only `waiting` and `error` chats; any other is answered 409 "Cannot archive an
active chat. …". A chat in `requires_action` is interrupted first, like a running one, so the
destroy neither waits out 15 seconds of refusals nor fails.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

from runner.backends.chats import LABEL_BATCH
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

BATCH = """\
version: 1
batch: asks
defaults:
  timeout: 60s
tasks:
  - name: ask
    prompt: "Ask me [sim:requires-action] [sim:work=1]"
    wait: none
"""


@pytest.mark.parametrize("version", ["2.36.0", "2.38.0"])
def test_destroy_interrupts_a_chat_that_requires_action(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    sim = make_sim(version)
    path = write_manifest(tmp_path, BATCH)
    env = sim_env(sim)
    ok(run_tasks(["apply", path, "--yes", "--backend", "chats", *FAST_WAITS], env=env), sim)
    coder = ChatsClient(Connection(url=sim.url, token=sim.token))
    (chat,) = coder.list_chats(labels={LABEL_BATCH: "asks"})
    deadline = time.monotonic() + 30
    while coder.get_chat(chat.id).status != "requires_action":
        assert time.monotonic() < deadline, coder.get_chat(chat.id).status
        time.sleep(0.02)
    since = len(sim.requests)

    destroyed = ok(
        run_tasks(["destroy", path, "--yes", "--backend", "chats"], env=env, timeout=60), sim
    )
    assert "1 deleted" in destroyed.stdout, destroyed.stdout
    writes = [
        (r["method"], r["path"].rsplit("/", 1)[-1], r["status"])
        for r in sim.requests[since:]
        if r["method"] in ("POST", "PATCH") and chat.id in r["path"]
    ]
    assert writes == [("POST", "interrupt", 200), ("PATCH", chat.id, 204)]
    assert coder.get_chat(chat.id).archived
