"""Two applies of one batch at once on Chats: one chat per item, every follow-up once.

Chats have no unique name and chat create no idempotency key, so both applies may create a chat
for the same item. Each run's polls list the batch's chats by its labels; every run keeps the
oldest (then smallest id) and archives its own younger one before sending it anything, and only
the run that created the kept chat sends its follow-ups. The simulator's stores are the
witnesses.

Time on the server moves only when the test moves it (a stepped clock), at events: every agent
is busy with its prompt until every duplicate is archived, and busy with its follow-up until
every follow-up has arrived, however slowly a loaded machine runs either apply.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAST_WAITS,
    TEST_TIME_SCALE,
    clean,
    run_tasks,
    sim_env,
    start_tasks,
    write_manifest,
)
from stepped_time import SteppedTime, until

from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.sim.chats.record import INTERRUPT_SETTLE_SECONDS

ITEMS = 20
BODY = f"""\
version: 1
batch: race
defaults: {{template: claude-code, timeout: 90s}}
tasks:
  - name: "job-{{{{ matrix.n }}}}"
    prompt: "job {{{{ matrix.n }}}} [sim:work=1000]"
    follow_ups: ["more [sim:work=1000]"]
    matrix:
      n: {list(range(1, ITEMS + 1))}
"""
SERVERS = [("2.34.2", ("--backend", "chats")), ("2.38.0", ())]
CHATS = "/api/*/chats"  # chat creates (and sends) on either route generation
SENDS = "/api/*/chats/*/messages"
INTERRUPTS = "/api/*/chats/*/interrupt"
EVENTS = 60.0
#: Server seconds (at the tests' time scale) of one turn of the manifest's agents.
TURN = 1000 * TEST_TIME_SCALE


def answered(sim: Any, suffix: str) -> int:
    """POSTs to chat routes ending in `suffix` that the server has handled and answered."""
    return sum(
        1
        for r in sim.requests
        if r["method"] == "POST" and r["path"].endswith(suffix) and r["status"] == 200
    )


def archived_in_store(sim: Any) -> int:
    with sim.chats.lock:
        return sum(1 for chat in sim.chats.chats if chat.archived)


def race_through(sim: Any, now: SteppedTime, procs: list[Any], duplicates: int) -> list[str]:
    """Move the server's time on at events once both applies run, then their outputs."""
    # Every duplicate's run interrupts it (its agent is busy with its prompt); from v2.35 the
    # interrupt settles only when time moves, less than a turn, so no prompt finishes.
    if not sim.arrivals.wait("POST", INTERRUPTS, count=duplicates, timeout=EVENTS):
        pytest.fail(f"{duplicates} interrupts did not arrive: {stalled(sim, procs)}")
    # Answered, not only arrived: an interrupt handled after the step would settle after it.
    assert until(lambda: answered(sim, "/interrupt") == duplicates)
    now.advance(2 * INTERRUPT_SETTLE_SECONDS * TEST_TIME_SCALE)
    assert until(lambda: archived_in_store(sim) == duplicates)
    # Twice a turn, so no turn ends on the boundary of a step (whatever pickup adds).
    now.advance(2 * TURN)  # every prompt answered: each follow-up goes out once, by one run
    assert sim.arrivals.wait("POST", SENDS, count=ITEMS, timeout=EVENTS)
    # Answered, not only arrived: a follow-up handled after the step would start its turn after it.
    assert until(lambda: answered(sim, "/messages") == ITEMS)
    now.advance(2 * TURN)
    outputs = finish(procs, sim)
    sends = [r for r in sim.requests if r["method"] == "POST" and r["path"].endswith("/messages")]
    assert len(sends) == ITEMS  # nothing sent to a duplicate, nothing sent twice
    assert not [r for r in sim.requests if "/queue/" in r["path"]]  # so nothing withdrawn
    return outputs


def stalled(sim: Any, procs: list[Any]) -> str:
    """What the server saw of the chat routes and what each apply said, the applies stopped:
    the failure's story, not only its count."""
    seen = collections.Counter(
        f"{r['method']} {re.sub(r'[0-9a-f-]{36}', '{id}', r['path'])} {r['status']}"
        for r in sim.requests
        if "/chats" in r["path"] or "/workspaces" in r["path"]
    )
    said = []
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=30)
        said.append(f"exit {proc.returncode}: {(out + err)[-3000:]}")
    statuses = collections.Counter((chat.archived, chat.outcome) for chat in sim.chats.chats)
    return f"requests {dict(seen)}; chats {dict(statuses)}; applies: {said}"


def chats_of(sim: Any, *, archived: bool) -> dict[str, list[Any]]:
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    found: dict[str, list[Any]] = collections.defaultdict(list)
    for chat in client.list_chats(labels={LABEL_BATCH: "race"}, archived=archived):
        found[chat.labels[LABEL_ITEM]].append(chat)
    return found


def user_messages(sim: Any, chat_id: str) -> list[str]:
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    return [m.text for m in client.history(chat_id) if m.role == "user" and m.text]


@contextlib.contextmanager
def applies() -> Iterator[list[Any]]:
    """The runs the block starts (appended to the list), killed afterwards if still running."""
    procs: list[Any] = []
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def finish(procs: list[Any], sim: Any) -> list[str]:
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, out + err
        assert "Traceback" not in out + err and sim.token not in out + err
        outputs.append(out + err)
    return outputs


def assert_one_chat_per_item(sim: Any, outputs: list[str]) -> int:
    """Every item has one live chat with its prompt and follow-up once; returns how many
    duplicates were archived (each untouched but for its prompt, and said by its run)."""
    live = chats_of(sim, archived=False)
    assert sorted(live) == sorted(f"job-{n}" for n in range(1, ITEMS + 1))
    for item, chats in live.items():
        assert len(chats) == 1, (item, [c.id for c in chats])
        n = item.removeprefix("job-")
        assert user_messages(sim, chats[0].id) == [
            f"job {n} [sim:work=1000]",
            "more [sim:work=1000]",
        ]
        assert chats[0].workspace_id  # pinned, and its workspace alive
        workspace = next(w for w in sim.store.workspaces if w.id == chats[0].workspace_id)
        assert workspace.latest.transition != "delete"
    archived = [chat for chats in chats_of(sim, archived=True).values() for chat in chats]
    for chat in archived:
        item = chat.labels[LABEL_ITEM]
        assert user_messages(sim, chat.id) == [f"job {item.removeprefix('job-')} [sim:work=1000]"]
        # The one archived shares the survivor's workspace, which stays.
        assert chat.workspace_id == live[item][0].workspace_id
    said = {i for out in outputs for i in re.findall(r"and archived ([0-9a-f-]{36})", out)}
    assert said == {chat.id for chat in archived}
    return len(archived)


#: How many chat creates are held before they go together: "together", every create of both
#: runs (every item created twice, the worst race there is); "staggered", the second run starts
#: on the first's first create (so it observes no chat and plans every item), and the first
#: run's creates go with the second's first, its others landing later, unheld.
HELD = {"together": 2 * ITEMS, "staggered": ITEMS + 1}


@pytest.mark.parametrize("start", sorted(HELD))
@pytest.mark.parametrize(("version", "backend"), SERVERS, ids=["v2.34-chats", "v2.38"])
def test_two_applies_keep_one_chat_per_item(
    stepped_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...], start: str
) -> None:
    sim, now = stepped_sim(version)
    path = write_manifest(tmp_path, BODY)
    args = ["apply", path, "--yes", *backend, *FAST_WAITS, "--parallelism", str(ITEMS)]
    sim.arrivals.hold("POST", CHATS)
    with applies() as procs:
        procs.append(start_tasks(args, env=sim_env(sim)))
        if start == "staggered":
            assert sim.arrivals.wait("POST", CHATS, timeout=EVENTS)
        procs.append(start_tasks(args, env=sim_env(sim)))
        assert sim.arrivals.wait("POST", CHATS, count=HELD[start], timeout=EVENTS)
        assert sim.arrivals.release(timeout=EVENTS)
        outputs = race_through(sim, now, procs, duplicates=ITEMS)
    assert assert_one_chat_per_item(sim, outputs) == ITEMS
    assert_third_apply_changes_nothing_for(sim, path, backend, count=ITEMS)


ONE = """\
version: 1
batch: race
defaults: {template: claude-code, timeout: 60s}
tasks:
  - name: job
    prompt: "job [sim:work=1]"
"""


@pytest.mark.parametrize(("version", "backend"), SERVERS, ids=["v2.34-chats", "v2.38"])
def test_a_duplicate_on_the_deployment_is_planned_and_removed(
    make_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...]
) -> None:
    sim = make_sim(version)
    env = sim_env(sim)
    path = write_manifest(tmp_path, ONE)
    applied = clean(run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=env), sim)
    assert applied.code == 0, applied.output
    (kept,) = chats_of(sim, archived=False)["job"]
    # What a lost race leaves: a younger chat with the item's labels, bound to its workspace.
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    younger = client.create_chat(
        "job [sim:work=1]",
        labels=dict(kept.labels),
        workspace_id=kept.workspace_id,
        organization_id=kept.organization_id or None,
    )
    if version == "2.38.0":  # imperative commands show chats where no Tasks are served
        # `<batch>/<name>` names the one every apply keeps rather than refusing.
        for command in (["status", "race/job", "-o", "json"], ["logs", "race/job"]):
            shown = clean(run_tasks(command, env=env), sim)
            assert shown.code == 0, shown.output
        status = run_tasks(["status", "race/job", "-o", "json"], env=env)
        assert json.loads(status.stdout)["id"] == kept.id

    plan = clean(run_tasks(["plan", path, *backend], env=env), sim)
    assert plan.code == 0, plan.output
    assert "Plan: 0 to create, 0 to update, 1 to delete, 0 drifted." in plan.stdout
    assert f"delete: {younger.id} duplicates {kept.id}, which is kept" in plan.stdout
    mark = len(sim.requests)
    removed = clean(run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=env), sim)
    assert removed.code == 0, removed.output
    assert [c.id for c in chats_of(sim, archived=False)["job"]] == [kept.id]
    assert [c.id for c in chats_of(sim, archived=True)["job"]] == [younger.id]
    # The survivor still uses the workspace: no delete build, nothing sent to the survivor.
    changes = [(r["method"], r["path"]) for r in sim.requests[mark:] if r["method"] != "GET"]
    assert not [c for c in changes if c[1].endswith("/builds") or kept.id in c[1]], changes
    assert_third_apply_changes_nothing_for(sim, path, backend, count=1)


def assert_third_apply_changes_nothing_for(
    sim: Any, path: str, backend: tuple[str, ...], count: int
) -> None:
    mark = len(sim.requests)
    again = clean(run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=sim_env(sim)), sim)
    assert again.code == 0 and f"{count} unchanged" in again.stdout, again.output
    assert [r for r in sim.requests[mark:] if r["method"] != "GET"] == []


ONE_WITH_FOLLOW_UP = """\
version: 1
batch: race
defaults: {template: claude-code, timeout: 90s}
tasks:
  - name: job
    prompt: "job [sim:work=1]"
    follow_ups: ["more [sim:work=1]"]
"""
CREATES = "/api/*/chats$"


@pytest.mark.parametrize("lost", ["before", "after"])
@pytest.mark.parametrize(("version", "backend"), SERVERS, ids=["v2.34-chats", "v2.38"])
def test_a_create_lost_in_a_race_follows_its_own_chat_or_watches_the_other(
    make_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...], lost: str
) -> None:
    """Two applies create the item's chat at once and the first create the server takes loses
    its answer: `before` the server acts (the connection breaks, no chat made), or `after`
    (the chat made, the answer dropped). The apply in doubt cannot tell from the item's labels
    whose chat it finds; the `tasks/run` label tells it. Its own chat, where made, is followed
    (and archived if younger); another apply's is only watched, its follow-up sent by the run
    that created it. So one live chat, its follow-up once, whichever create lost its answer."""
    sim = make_sim(version)
    path = write_manifest(tmp_path, ONE_WITH_FOLLOW_UP)
    args = ["apply", path, "--yes", *backend, *FAST_WAITS]
    sim.arrivals.hold("POST", CREATES)
    with applies() as procs:
        procs.append(start_tasks(args, env=sim_env(sim)))
        assert sim.arrivals.wait("POST", CREATES, timeout=EVENTS)
        procs.append(start_tasks(args, env=sim_env(sim)))
        assert sim.arrivals.wait("POST", CREATES, count=2, timeout=EVENTS)
        sim.faults.add(method="POST", path=r"/chats$", when=lost, status=0)
        assert sim.arrivals.release(timeout=EVENTS)
        outputs = finish(procs, sim)
    said = "\n".join(outputs)
    assert "create outcome unknown" in said
    live, archived = chats_of(sim, archived=False), chats_of(sim, archived=True)
    assert [len(chats) for chats in live.values()] == [1], said
    assert user_messages(sim, live["job"][0].id) == ["job [sim:work=1]", "more [sim:work=1]"]
    sends = [r for r in sim.requests if r["method"] == "POST" and r["path"].endswith("/messages")]
    assert len(sends) == 1, said  # one run sent the follow-up; the other did not try
    assert not [r for r in sim.requests if "/queue/" in r["path"]], said  # nothing withdrawn
    made = [
        r
        for r in sim.requests
        if r["method"] == "POST" and re.fullmatch(r"/api/\w+/chats", r["path"]) and r["status"]
    ]
    if len(made) == 1:  # the lost create made nothing, and the listing showed the other's chat
        assert "adopted the chat a concurrent apply created" in said, said
        assert not archived
    else:  # each apply's create made a chat: the younger is archived by the run that made it
        assert [len(chats) for chats in archived.values()] == [1], said
        assert f"and archived {archived['job'][0].id}" in said
    assert_third_apply_changes_nothing_for(sim, path, backend, count=1)
