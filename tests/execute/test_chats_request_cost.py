"""What a batch of chats costs in requests, counted on the simulator's side (its request log).

Creating N unpinned chats costs the N creates plus a few list pages, whatever the run waits
for, and on v2.36+ one cost read per chat (when its run ends); planning N unchanged chats costs
the list pages, and re-applying them the list pages and one cost read each (their `tasks/spec`
labels vouch for prompt and template, so no history and no workspace is read); the reports take
the pull request and Coder's turn summary from the rows of the last poll; a poll over 1,000 chats is
at most three list pages (Coder's chat list has no upper bound on `limit`, CHATS-CONTRACT 1.5).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from runner.backends.chats import LABEL_BATCH, LABEL_SPEC, ChatsBackend
from runner.batch import plan_batch, run
from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.execute import ExecuteSettings, Outcome
from runner.manifest.model import Batch, DesiredTask
from runner.plan import ActionKind

PREFIX = "/api/v2/chats"
ONE_CHAT = re.compile(r"^/api/v2/chats/[0-9a-f-]{36}(/.*)?$")
#: What a chat cost (CHATS-CONTRACT 7.4), read once per chat of a run.
COST_READ = re.compile(r"^/api/v2/chats/[0-9a-f-]{36}/cost$")
WORKSPACE_READ = re.compile(r"^/api/v2/(workspaces/[0-9a-f-]{36}|users/[^/]+/workspace/)")
SETTINGS = ExecuteSettings(parallelism=8, poll_interval=0.1, idle_grace=0.05)
THOUSAND = 1000
#: Requests a batch makes whatever its size: build info, the route probe, the user, the
#: organization, the template and its version (preflight), the first observation's list.
CONSTANT = 12


def batch(count: int, *, template: str | None = None, prompt: str = "job {n}") -> Batch:
    tasks = tuple(DesiredTask("scale", f"c{n}", prompt.format(n=n), template) for n in range(count))
    return Batch("scale", tasks)


@contextmanager
def backend(sim: Any) -> Iterator[ChatsBackend]:
    """A fresh backend (nothing cached from an earlier run), as each `tasks` command has."""
    connection = Connection(url=sim.url, token=sim.token)
    with ChatsClient(connection) as chats, CoderClient(connection, tasks_required=False) as tasks:
        yield ChatsBackend(chats, tasks)


def lists(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["method"] == "GET" and r["path"] == PREFIX]


def per_chat_reads(requests: list[dict[str, Any]]) -> list[str]:
    """Reads of one chat or workspace, beyond the cost each chat's run ends with."""
    return [
        f"{r['method']} {r['path']}"
        for r in requests
        if r["method"] == "GET"
        and not COST_READ.match(r["path"])
        and (ONE_CHAT.match(r["path"]) or WORKSPACE_READ.match(r["path"]))
    ]


def cost_reads(requests: list[dict[str, Any]]) -> list[str]:
    """The chats whose cost was read, one entry per read."""
    return [r["path"] for r in requests if r["method"] == "GET" and COST_READ.match(r["path"])]


def test_creating_unpinned_chats_costs_the_creates_and_a_few_list_pages(make_sim: Any) -> None:
    count = 120
    sim = make_sim("2.38.0", time_scale=0.05)
    with backend(sim) as chats:
        before = len(sim.requests)
        report = run(plan_batch(chats, batch(count)), SETTINGS)
    assert all(r.outcome is Outcome.OK for r in report.results), report.summary()
    requests = sim.requests[before:]
    creates = [r for r in requests if r["method"] == "POST" and r["path"] == PREFIX]
    assert len(creates) == count
    # Nothing else is read chat by chat for the reports; each chat's cost once, when its run
    # ends; and while waiting only whether new running chats wait for capacity (v2.37+,
    # CHATS-CONTRACT 7.4): on a deployment without caps the newest one's single read answers
    # for all, so at most one read per poll.
    reads = per_chat_reads(requests)
    assert all(ONE_CHAT.match(r.split()[1]) and r.count("/") == 4 for r in reads), reads
    assert len(reads) <= len(lists(requests)), reads
    costs = cost_reads(requests)
    assert len(costs) == len(set(costs)) == count
    assert len(requests) - len(lists(requests)) - len(reads) - count <= count + CONSTANT
    assert len(requests) - len(reads) - count <= 1.5 * count + CONSTANT, len(requests)
    # The reports say what the agent did, from the last poll's rows.
    assert all(r.last_message.startswith("I worked on: job") for r in report.results)


@pytest.mark.parametrize("template", [None, "claude-code"], ids=["unpinned", "pinned"])
def test_plan_and_a_no_op_apply_of_existing_chats_cost_the_list_pages(
    make_sim: Any, template: str | None
) -> None:
    count = 60
    sim = make_sim("2.38.0", time_scale=0.05)
    wanted = batch(count, template=template)
    with backend(sim) as chats:
        first = run(plan_batch(chats, wanted), SETTINGS)
    assert all(r.outcome is Outcome.OK for r in first.results), first.summary()
    for step in ("plan", "apply"):
        with backend(sim) as chats:
            before = len(sim.requests)
            prepared = plan_batch(chats, wanted)
            assert {a.kind for a in prepared.plan.actions} == {ActionKind.NOOP}
            if step == "apply":
                report = run(prepared, SETTINGS)
                assert {r.outcome for r in report.results} == {Outcome.UNCHANGED}
                assert all(r.last_message for r in report.results)
        requests = sim.requests[before:]
        assert per_chat_reads(requests) == [], step
        assert [r for r in requests if r["method"] != "GET"] == [], step
        # Apply reports what each chat cost: one read a chat, at the end; plan reads none.
        costs = cost_reads(requests)
        assert len(costs) == len(set(costs)) == (count if step == "apply" else 0), step
        assert len(requests) - len(costs) <= CONSTANT, (step, len(requests))


def test_a_chat_whose_spec_label_differs_is_read_to_say_how_it_drifted(make_sim: Any) -> None:
    sim = make_sim("2.38.0", time_scale=0.05)
    with backend(sim) as chats:
        run(plan_batch(chats, batch(3)), SETTINGS)
    changed = batch(3, prompt="job {n}, done differently")
    with backend(sim) as chats:
        before = len(sim.requests)
        plan = plan_batch(chats, changed).plan
    assert [a.reasons for a in plan.actions] == [("prompt differs",)] * 3
    # The label no longer vouches: each chat's history is read, once, to compare prompts.
    reads = per_chat_reads(sim.requests[before:])
    assert sorted(reads) == sorted(
        f"GET {PREFIX}/{a.task_id}/messages" for a in plan.actions if a.task_id
    )


def test_a_poll_over_a_thousand_chats_is_at_most_three_list_pages(make_sim: Any) -> None:
    sim = make_sim("2.38.0", time_scale=0.05)
    connection = Connection(url=sim.url, token=sim.token)
    with ChatsClient(connection) as client:
        labels = {LABEL_BATCH: "scale", LABEL_SPEC: "0"}

        def make(number: int) -> None:
            client.create_chat(f"job {number} [sim:work=100000]", labels=labels)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(make, range(THOUSAND)))
        for count in (THOUSAND, THOUSAND + 1):
            if count > THOUSAND:
                make(count)
            before = len(sim.requests)
            found = client.list_chats(labels={LABEL_BATCH: "scale"})
            polled = sim.requests[before:]
            assert len(found) == count
            assert len(polled) <= 3, [r["query"] for r in polled]
            assert all(r["path"] == PREFIX for r in polled)
        # A page larger than the batch makes a poll one request.
        before = len(sim.requests)
        assert len(client.list_chats(labels={LABEL_BATCH: "scale"}, page_size=2000)) == count
        assert len(sim.requests) - before == 1


def follow_up_batch(count: int, follow_ups: tuple[str, ...]) -> Batch:
    tasks = tuple(
        DesiredTask("scale", f"c{n}", f"job {n}", None, follow_ups=follow_ups) for n in range(count)
    )
    return Batch("scale", tasks)


def history_reads(requests: list[dict[str, Any]]) -> list[str]:
    return [r["path"] for r in requests if r["method"] == "GET" and r["path"].endswith("/messages")]


def test_delivered_follow_ups_are_read_from_a_label_until_the_list_changes(make_sim: Any) -> None:
    count = 8
    sim = make_sim("2.38.0", time_scale=0.05)
    two = ("add tests", "add docs")
    with backend(sim) as chats:
        first = run(plan_batch(chats, follow_up_batch(count, two)), SETTINGS)
    assert all(r.outcome is Outcome.OK for r in first.results), first.summary()
    # One label write per chat, after its last follow-up went out.
    patches = [r for r in sim.requests if r["method"] == "PATCH"]
    assert len(patches) == count
    with backend(sim) as chats:
        before = len(sim.requests)
        plan = plan_batch(chats, follow_up_batch(count, two)).plan
    assert {a.kind for a in plan.actions} == {ActionKind.NOOP}
    assert {a.delivered for a in plan.actions} == {2}
    assert per_chat_reads(sim.requests[before:]) == []
    # A third follow-up: the label no longer proves anything, so each history is read, and
    # only the new follow-up is sent, once.
    three = (*two, "add a changelog")
    with backend(sim) as chats:
        before = len(sim.requests)
        prepared = plan_batch(chats, follow_up_batch(count, three))
        assert [a.follow_ups for a in prepared.plan.actions] == [("add a changelog",)] * count
        report = run(prepared, SETTINGS)
    assert all(r.outcome is Outcome.OK for r in report.results), report.summary()
    sends = [
        r
        for r in sim.requests[before:]
        if r["method"] == "POST" and r["path"].endswith("/messages")
    ]
    assert len(sends) == count
    assert len(history_reads(sim.requests[before:])) >= count
    with ChatsClient(Connection(url=sim.url, token=sim.token)) as client:
        for chat in client.list_chats(labels={LABEL_BATCH: "scale"}):
            said = [m.text for m in client.history(chat.id) if m.role == "user"]
            assert said[1:] == list(three), said  # every follow-up exactly once, in order
    with backend(sim) as chats:
        before = len(sim.requests)
        again = plan_batch(chats, follow_up_batch(count, three)).plan
    assert {a.kind for a in again.actions} == {ActionKind.NOOP}
    assert per_chat_reads(sim.requests[before:]) == []


def test_servers_without_turn_labels_read_each_chats_newest_messages_for_the_reports(
    make_sim: Any,
) -> None:
    """v2.33 sends no `last_turn_summary` (CHATS-CONTRACT 1.2; added 2026-05-06, #24942): the
    reports read each chat's newest messages, once, for what the agent said last."""
    sim = make_sim("2.33.0", experiments=("agents",), time_scale=0.05)
    with backend(sim) as chats:
        before = len(sim.requests)
        report = run(plan_batch(chats, batch(3)), SETTINGS)
    assert all(r.last_message.startswith("I worked on: job") for r in report.results)
    reads = history_reads(sim.requests[before:])
    assert sorted(reads) == sorted(
        f"/api/experimental/chats/{r.task_id}/messages" for r in report.results
    )
