"""Clean-up and deletes as steps of each run: a task cleans up as soon as its outcome is final,
and a refusal to archive is asked again after a pause, never waited out on a worker.

From v2.35 Coder refuses (409) to archive a chat while it is `interrupting` (CHATS-CONTRACT
1.9, 7.2). Destroy and prune (runner/execute/delete.py) and `after: remove`
(runner/execute/cleanup.py) try once and ask again as a step of the run, so with
`--parallelism 1` another item's requests go on meanwhile. The server's time stands still
(a stepped clock), so a chat stays `interrupting`, and a busy agent busy, until the test moves
it, however slowly the machine runs the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import FAST_WAITS, TEST_TIME_SCALE, running_tasks, sim_env, write_manifest
from stepped_time import until

from runner import ownership
from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.sim.chats.record import INTERRUPT_SETTLE_SECONDS

EVENTS = 60.0
#: Server seconds of a `[sim:work=1]` turn, and of an interrupt settling.
TURN = 1 * TEST_TIME_SCALE
SETTLE = INTERRUPT_SETTLE_SECONDS * TEST_TIME_SCALE


def chat_of(sim: Any, item: str) -> Any:
    """The one chat of `item` (the caller holds the store's lock)."""
    (chat,) = [c for c in sim.chats.chats if c.labels.get(LABEL_ITEM) == item]
    return chat


def status_of(sim: Any, item: str) -> str:
    """The chat's status as the server would answer it now ("archived" once archived)."""
    store = sim.chats
    with store.lock:
        chat = chat_of(sim, item)
        return "archived" if chat.archived else str(store._status(chat, store.clock.now()))


def answered_sends_to(sim: Any, chat_id: str) -> int:
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST"
        and r["path"].endswith(f"/{chat_id}/messages")
        and r["status"] == 200
    )


def finish(proc: Any) -> tuple[int, str]:
    out, err = proc.communicate(timeout=240)
    text = out + err
    assert "Traceback" not in text
    return proc.returncode, text


DESTROYED = """\
version: 1
batch: gone
defaults: {timeout: 90s}
tasks:
  - name: dup
    prompt: "dup [sim:work=1000]"
  - name: other
    prompt: "other [sim:work=1]"
"""


def test_destroy_asks_again_while_coder_interrupts_and_deletes_the_others_meanwhile(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, now = stepped_sim("2.38.0")
    path = write_manifest(tmp_path, DESTROYED)
    admin = next(u for u in sim.directory.users if u.username == "admin")
    for item, text in (("dup", "dup [sim:work=1000]"), ("other", "other [sim:work=1]")):
        labels = {LABEL_BATCH: "gone", LABEL_ITEM: item}
        body = {"content": [{"type": "text", "text": text}], "labels": labels}
        sim.chats.create(admin, {"organization_id": admin.org_ids[0], **body})
        now.advance(0.001)
    now.advance(2 * TURN)  # `other` is done; `dup` works on
    assert until(lambda: status_of(sim, "other") == "waiting")
    with running_tasks(["destroy", path, "--yes", "--parallelism", "1"], env=sim_env(sim)) as proc:
        # `dup` (first in the plan) is interrupted, and Coder refuses to archive it meanwhile;
        # the one worker is free, so `other` is archived while `dup` still waits.
        assert until(lambda: status_of(sim, "other") == "archived")
        assert status_of(sim, "dup") == "interrupting"
        now.advance(2 * SETTLE)
        code, text = finish(proc)
    assert code == 0, text
    assert status_of(sim, "dup") == "archived" and "2 deleted" in text
    # Waiting out the interrupt is a pause of the run, not a refused delete.
    assert "not accepted yet" not in text and sim.token not in text


REMOVED = """\
version: 1
batch: tidy
defaults: {backend: chats, timeout: 90s, after: remove}
tasks:
  - name: one
    prompt: "one [sim:work=1]"
  - name: two
    prompt: "two [sim:work=1]"
    follow_ups: ["more [sim:work=1]"]
"""
#: The clean-up's read of one chat (the list polls and the history reads have other paths).
ONE_CHAT = "/api/*/chats/*$"


def test_after_remove_asks_again_while_coder_interrupts_and_the_others_work_meanwhile(
    stepped_sim: Any, tmp_path: Path
) -> None:
    """`one` is done first and is removed as a step of its run, while `two` still has a
    follow-up to send. Someone sends `one` another message just as its clean-up reads it, so
    Coder interrupts that turn and refuses the archive for a while: `two`'s follow-up goes out
    on the one worker meanwhile, and `one` is archived once the interrupt settles."""
    sim, now = stepped_sim("2.36.0")  # no capacity reads: the one chat read held is clean-up's
    path = write_manifest(tmp_path, REMOVED)
    report = tmp_path / "report.json"
    args = ["apply", path, "--yes", *FAST_WAITS, "--parallelism", "1", "--report", str(report)]
    with running_tasks(args, env=sim_env(sim)) as proc:
        assert until(lambda: len(sim.chats.chats) == 2 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        sim.arrivals.clear()  # what `wait` counts: the model configs' read matched before
        sim.arrivals.hold("GET", ONE_CHAT)
        now.advance(2 * TURN)  # both first turns end at once; `one` ends first in the plan
        assert sim.arrivals.wait("GET", ONE_CHAT, timeout=EVENTS)
        with sim.chats.lock:
            one, two = chat_of(sim, "one").id, chat_of(sim, "two").id
        client = ChatsClient(Connection(url=sim.url, token=sim.token))
        client.send_message(one, "one more thing [sim:work=1000]")
        assert sim.arrivals.release(timeout=EVENTS)
        assert until(lambda: status_of(sim, "one") == "interrupting")
        # The one worker is free while `one` waits to be archived: `two`'s follow-up goes out.
        assert until(lambda: answered_sends_to(sim, two) == 1)
        assert status_of(sim, "one") == "interrupting"
        now.advance(2 * SETTLE)  # the interrupt settles, and `two`'s follow-up is answered
        assert until(lambda: status_of(sim, "one") == "archived")
        code, text = finish(proc)
    assert code == 0, text
    assert "remove failed" not in text and sim.token not in text
    rows = {t["name"]: t for t in json.loads(report.read_text())["tasks"]}
    assert {name: (t["outcome"], t["clean_up"]) for name, t in rows.items()} == {
        "one": ("ok", "removed"),
        "two": ("ok", "removed"),
    }


STOPPED = """\
version: 1
batch: early
defaults: {template: claude-code, timeout: 5m, after: stop}
tasks:
  - name: quick
    prompt: "quick [sim:work=1]"
  - name: slow
    prompt: "slow [sim:work=1000]"
"""


def test_a_task_that_finishes_early_is_stopped_while_another_still_works(
    stepped_sim: Any, tmp_path: Path
) -> None:
    """Clean-up is a step of each task's run: `quick`'s pinned workspace is stopped as soon as
    its outcome is final, while `slow`'s agent is still at work (the server's time stands
    still until the test moves it), not once the whole batch is done."""
    sim, now = stepped_sim("2.38.0")
    path = write_manifest(tmp_path, STOPPED)
    report = tmp_path / "report.json"
    quick, slow = (ownership.coder_name("early", n) for n in ("quick", "slow"))

    def latest(name: str) -> str:
        return next(w.latest.transition for w in sim.store.workspaces if w.name == name)

    args = ["apply", path, "--yes", *FAST_WAITS, "--report", str(report)]
    with running_tasks(args, env=sim_env(sim)) as proc:
        assert until(lambda: len(sim.chats.chats) == 2)
        now.advance(1.0)  # builds done, `quick`'s turn done; `slow` works for 20 s more
        assert until(lambda: latest(quick) == "stop")
        assert status_of(sim, "slow") == "running" and latest(slow) == "start"
        now.advance(1000 * TEST_TIME_SCALE)
        assert until(lambda: latest(slow) == "stop")
        code, text = finish(proc)
    assert code == 0, text
    rows = {t["name"]: t for t in json.loads(report.read_text())["tasks"]}
    assert {name: (t["outcome"], t["clean_up"]) for name, t in rows.items()} == {
        "quick": ("ok", "stopped"),
        "slow": ("ok", "stopped"),
    }
