"""Archiving a duplicate chat that Coder still interrupts holds no worker of the apply.

From v2.35 Coder refuses (409) to archive a chat while it is `interrupting` (CHATS-CONTRACT
1.9, 7.2). The run that retires such a duplicate asks again after a short pause, a step of its
own (runner/execute/race.py), so with `--parallelism 1` another item's requests go on while the
duplicate waits. The server's time stands still, so the chat stays `interrupting` until the test
moves it, however slowly the machine runs the apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, TEST_TIME_SCALE, sim_env, start_tasks, write_manifest
from stepped_time import until

from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.sim.chats.record import INTERRUPT_SETTLE_SECONDS

EVENTS = 60.0
CHATS = "/api/*/chats"
SENDS = "/api/*/chats/*/messages"
INTERRUPTS = "/api/*/chats/*/interrupt"
BODY = """\
version: 1
batch: race
defaults: {template: claude-code, timeout: 90s}
tasks:
  - name: dup
    prompt: "dup [sim:work=1000]"
    wait: none
  - name: other
    prompt: "other [sim:work=0]"
    follow_ups: ["more [sim:work=1]"]
"""


#: Server seconds of the follow-up's turn (`[sim:work=1]` at the tests' time scale).
TURN = 1 * TEST_TIME_SCALE


def answered(sim: Any, suffix: str) -> int:
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST" and r["path"].endswith(suffix) and r["status"] == 200
    )


def live_chats_of(sim: Any, item: str) -> list[Any]:
    with sim.chats.lock:
        return [c for c in sim.chats.chats if c.labels.get(LABEL_ITEM) == item and not c.archived]


def test_a_duplicate_waiting_to_be_archived_holds_no_worker(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, now = stepped_sim("2.38.0")
    path = write_manifest(tmp_path, BODY)
    sim.arrivals.hold("POST", CHATS)
    proc = start_tasks(
        ["apply", path, "--yes", *FAST_WAITS, "--parallelism", "1"], env=sim_env(sim)
    )
    try:
        # The apply observed no chat and its create of `dup` is on the server: a concurrent
        # apply's create of the same item lands first (older), so this apply's is the duplicate.
        assert sim.arrivals.wait("POST", CHATS, timeout=EVENTS)
        admin = next(u for u in sim.directory.users if u.username == "admin")
        sim.chats.create(
            admin,
            {
                "organization_id": admin.org_ids[0],
                "content": [{"type": "text", "text": "dup [sim:work=1000]"}],
                "labels": {LABEL_BATCH: "race", LABEL_ITEM: "dup"},
            },
        )
        now.advance(0.001)
        assert sim.arrivals.release(timeout=EVENTS)
        # Its duplicate is busy, so it is interrupted, and stays `interrupting` meanwhile.
        assert sim.arrivals.wait("POST", INTERRUPTS, timeout=EVENTS)
        # The one worker is free: `other`'s follow-up goes out while the duplicate still waits.
        assert sim.arrivals.wait("POST", SENDS, timeout=EVENTS)
        assert len(live_chats_of(sim, "dup")) == 2
        # Answered, not only arrived: its turn then starts before the time moves.
        assert until(lambda: answered(sim, "/messages") == 1)
        now.advance(2 * INTERRUPT_SETTLE_SECONDS * TEST_TIME_SCALE)
        assert until(lambda: len(live_chats_of(sim, "dup")) == 1)
        now.advance(2 * TURN)  # the follow-up answered: the wait ends
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "Traceback" not in out + err and sim.token not in out + err
    assert "kept the older" in out + err
    # Waiting out the interrupt is a pause of the run, not a failed archive.
    assert "cannot archive the duplicate yet" not in out + err
