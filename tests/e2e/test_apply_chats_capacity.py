"""A batch larger than the deployment's chat capacity completes instead of timing out.

An unlicensed Coder v2.37+ works on at most 5 root chats at once; the rest stay `running`,
untouched, and only a single-chat read says they wait (`queued_for_capacity`, CHATS-CONTRACT
7.4). The simulator holds them the way Coder does (`runner/sim/chats/capacity.py`, after
erickirt/coder c9a1e2bce, commit 119f2b1dd): oldest first, a slot freed when a turn ends.

Time on the server moves only when the client polls (a stepped clock), and only once every chat
is created: each poll is then 20 server seconds, so the twenty one-minute chats, created at one
instant, take four rounds of five, whatever the machine's load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAST_WAITS,
    Result,
    ok,
    run_tasks,
    running_tasks,
    sim_env,
    write_manifest,
)
from stepped_time import step_per_look, until

from runner.backends.chat_capacity import PROBES_PER_POLL

ITEMS = 20
WORK = 60.0  # server seconds of each chat's one turn
STEP = 20.0  # server seconds per client poll
TIMEOUT = 180.0  # the manifest's `timeout: 3m`
BODY = f"""\
version: 1
batch: wide
defaults: {{timeout: 3m}}
tasks:
  - name: "job-{{{{ matrix.n }}}}"
    prompt: "job {{{{ matrix.n }}}} [sim:work={WORK:g}]"
    matrix:
      n: {list(range(1, ITEMS + 1))}
"""
LIST = re.compile(r"^/api/v2/chats$")
ONE_CHAT = re.compile(r"^/api/v2/chats/[0-9a-f-]{36}$")


def created(sim: Any) -> int:
    """Chat creates the server has answered."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST" and LIST.match(r["path"]) and r["status"] == 201
    )


def lists(sim: Any) -> int:
    return sum(1 for r in sim.requests if r["method"] == "GET" and LIST.match(r["path"]))


def polls(sim: Any) -> list[tuple[int, int]]:
    """Per list of the chats: how many it showed `running`, and the single-chat reads between
    it and the next list."""
    found: list[tuple[int, int]] = []
    for exchange in sim.exchanges:
        if exchange["method"] != "GET":
            continue
        if LIST.match(exchange["path"]):
            running = sum(1 for chat in exchange["payload"] if chat["status"] == "running")
            found.append((running, 0))
        elif ONE_CHAT.match(exchange["path"]) and found:
            found[-1] = (found[-1][0], found[-1][1] + 1)
    return found


def bound(running: int) -> int:
    """Reads one poll may make: the newest and the oldest candidate, then a search of the rest
    in rounds of reads made at once (`--parallelism` 20 here), each chat read at most once and
    at most PROBES_PER_POLL in all (runner/backends/chat_capacity.py)."""
    return min(PROBES_PER_POLL, running)


def test_twenty_chats_at_capacity_five_finish_within_their_timeouts(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, now = stepped_sim("2.38.0", time_scale=1.0, chat_capacity=(5, 10))
    path = write_manifest(tmp_path, BODY)
    report = tmp_path / "report.json"
    args = ["apply", path, "--yes", *FAST_WAITS, "--parallelism", str(ITEMS), "--report"]
    with running_tasks([*args, str(report)], env=sim_env(sim)) as proc:
        assert until(lambda: created(sim) == ITEMS)  # the clock stands still until then
        with step_per_look(now, STEP, lambda: lists(sim)):
            out, err = proc.communicate(timeout=240)
    result = ok(Result(proc.returncode, out, err), sim)
    outcomes = [task["outcome"] for task in json.loads(report.read_text())["tasks"]]
    assert outcomes == ["ok"] * ITEMS
    assert "queued for capacity" in result.output, result.output  # shown while one waits

    # Counted from each chat's create, the last round ran past `timeout: 3m` on the server's
    # clock: a timeout that ran while a chat was queued would have ended those chats.
    with sim.chats.lock:
        chats = list(sim.chats.chats)
        spans = sorted(_replied_at(chat) - chat.created_at for chat in chats)
        first, last = min(c.created_at for c in chats), max(_replied_at(c) for c in chats)
    assert len(spans) == ITEMS
    assert sum(1 for span in spans if span > TIMEOUT) == 5, spans  # the last round
    assert last - first == pytest.approx(4 * WORK, abs=0.01)  # four rounds of five

    # Every single-chat read was of a running chat (one not answered yet), and each poll made
    # at most PROBES_PER_POLL of them.
    reads = [e for e in sim.exchanges if e["method"] == "GET" and ONE_CHAT.match(e["path"])]
    assert reads, "the queued chats were never found"
    assert all(e["payload"]["status"] == "running" for e in reads)
    seen = polls(sim)
    assert all(reads <= bound(running) for running, reads in seen), seen


def read_chats(sim: Any) -> list[str]:
    """For each single-chat read, the status the list before it showed for that chat."""
    listed: dict[str, str] = {}
    seen: list[str] = []
    for exchange in sim.exchanges:
        if exchange["method"] != "GET":
            continue
        if LIST.match(exchange["path"]):
            listed = {chat["id"]: chat["status"] for chat in exchange["payload"]}
        elif ONE_CHAT.match(exchange["path"]):
            seen.append(listed.get(exchange["path"].rsplit("/", 1)[1], "not listed"))
    return seen


def _replied_at(chat: Any) -> float:
    """When the chat's agent answered its prompt (server time)."""
    replies = [m.at for m in chat.messages if m.role == "assistant"]
    assert replies, chat.id
    return float(replies[0])


def test_status_shows_a_chat_waiting_for_capacity(stepped_sim: Any, tmp_path: Path) -> None:
    sim, _ = stepped_sim("2.38.0", time_scale=1.0, chat_capacity=(1, 10))
    env = sim_env(sim)
    body = BODY.replace(f"n: {list(range(1, ITEMS + 1))}", "n: [1, 2]")
    path = write_manifest(tmp_path, body.replace("{timeout: 3m}", "{wait: none}"))
    ok(run_tasks(["apply", path, "--yes", *FAST_WAITS], env=env), sim)
    shown = {
        name: ok(run_tasks(["status", f"wide/{name}"], env=env), sim).output
        for name in ("job-1", "job-2")
    }
    # Both are `running`; one waits for the one slot (the list alone never says which).
    queued = [name for name, out in shown.items() if "running (queued for capacity)" in out]
    assert len(queued) == 1 and all(" running" in out for out in shown.values()), shown


def test_the_capacity_reads_of_a_poll_are_in_flight_at_once(make_sim: Any, tmp_path: Path) -> None:
    """One poll's single-chat reads overlap (`runner/execute/poll_reads.py`): while the server
    holds the read of the oldest chat, the poll's other reads of that round arrive. Made one
    after another, nothing else would arrive before the held read's deadline (10 minutes)."""
    sim = make_sim("2.38.0", chat_capacity=(1, 10))
    body = BODY.replace(f"n: {list(range(1, ITEMS + 1))}", "n: [1, 2, 3, 4]")
    body = body.replace(f"work={WORK:g}", "work=86400")  # no turn ends during the test
    path = write_manifest(tmp_path, body.replace("{timeout: 3m}", "{wait: none}"))
    env = {**sim_env(sim), "TASKS_REQUEST_TIMEOUT": "10m"}
    ok(run_tasks(["apply", path, "--yes"], env=env), sim)  # four chats, one taken up
    with sim.chats.lock:
        taken = [c.id for c in sim.chats.chats if c.turn and not c.turn.queued_for_capacity]
    assert len(taken) == 1, taken
    # The waiting apply's first poll: the newest chat (queued), then the oldest (the one taken
    # up: held) with the two between, at once (`--parallelism 4`).
    waiting = write_manifest(tmp_path, body, name="waiting.tasks.yaml")
    sim.arrivals.clear()
    sim.arrivals.hold("GET", f"/api/v2/chats/{taken[0]}$")
    args = ["apply", waiting, "--yes", "--parallelism", "4", "--lost-contact-after", "10m"]
    try:
        with running_tasks(args, env=env):
            assert sim.arrivals.wait("GET", f"/api/v2/chats/{taken[0]}$", timeout=60)
            assert sim.arrivals.wait("GET", "/api/v2/chats/*$", count=4, timeout=60)
    finally:
        assert sim.arrivals.release(timeout=60)
