"""Sub-agent chats: part of their root's work, never batch items of their own.

A simulated agent starts a sub-agent with `[sim:subagent=N]` (runner/sim/chats/directives.py):
it works N server seconds whatever its root does, so the root can be `waiting` while its
sub-agent still runs. Whether Coder allows that is open (CHATS-CONTRACT, open question 5); the
client takes the conservative side: a root is not done while any sub-agent is busy.

Time on the server moves only when the client lists the batch's chats (a stepped clock), 20
server seconds a poll: the root's turn (10 s) ends at the first step, its sub-agent's (100 s)
five steps later, however slowly the machine runs the command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest
from stepped_time import step_per_look

STEP = 20.0
PRICE = 250_000  # USD micros per model request: one per finished turn
ROOT_WORK, CHILD_WORK = 10, 100
BODY = f"""\
version: 1
batch: family
tasks:
  - name: lead
    prompt: "Plan the release [sim:work={ROOT_WORK}] [sim:subagent={CHILD_WORK}]"
  - name: solo
    prompt: "Fix the typo [sim:work={ROOT_WORK}]"
"""
LIST = re.compile(r"^/api/(v2|experimental)/chats$")


def lists(sim: Any) -> int:
    return sum(1 for r in sim.requests if r["method"] == "GET" and LIST.match(r["path"]))


def family(sim: Any) -> tuple[Any, Any]:
    """The `lead` chat and its one sub-agent, from the simulator's store."""
    with sim.chats.lock:
        (root,) = [c for c in sim.chats.chats if c.labels.get("tasks/item") == "lead"]
        (child,) = [c for c in sim.chats.chats if c.parent_id == root.id]
    return root, child


def touched(sim: Any, chat_id: str, method: str) -> list[str]:
    return [r["path"] for r in sim.requests if r["method"] == method and chat_id in r["path"]]


def test_a_root_is_not_done_while_its_sub_agent_works(stepped_sim: Any, tmp_path: Path) -> None:
    sim, now = stepped_sim("2.38.0", time_scale=1.0, request_price_micros=PRICE)
    env = sim_env(sim)
    path = write_manifest(tmp_path, BODY)
    report = tmp_path / "report.json"
    with step_per_look(now, STEP, lambda: lists(sim)):
        applied = run_tasks(["apply", path, "--yes", *FAST_WAITS, "--report", str(report)], env=env)
    ok(applied, sim)
    assert "Apply: 2 ok" in applied.output  # the sub-agent is no item of the batch
    # Coder's cost route sums a root's whole tree (GetAIBridgeChatCost, aibridge.sql, erickirt/
    # coder c9a1e2bce): the lead's turn and its sub-agent's, counted once, in the lead's cost.
    document = json.loads(report.read_text())
    costs = {task["name"]: task["cost"]["requests"] for task in document["tasks"]}
    assert costs == {"lead": 2, "solo": 1}
    assert document["cost"]["micros"] == 3 * PRICE
    root, child = family(sim)
    # The apply ended only once the sub-agent had answered (time moves only with its polls) ...
    child_replies = [m.at for m in child.messages if m.role == "assistant"]
    assert child_replies, "the apply ended while the sub-agent still worked"
    # ... though the root was `waiting` for several polls before that.
    root_done = max(m.at for m in root.messages if m.role == "assistant")
    assert root_done + 2 * STEP < max(child_replies) <= now()
    # Nothing was sent to the sub-agent, and nothing read it on its own while waiting.
    assert touched(sim, child.id, "POST") == touched(sim, child.id, "PATCH") == []

    # `status` lists the sub-agent under its root; `logs` shows its conversation under the root's.
    status = ok(run_tasks(["status", "family/lead"], env=env), sim).output
    assert re.search(rf"{child.id}\s+↳ Sub-agent\s+waiting", status), status
    logs = ok(run_tasks(["logs", "family/lead"], env=env), sim).output.splitlines()
    heading = logs.index(f"↳ sub-agent {child.id} (Sub-agent, waiting):")
    assert logs[0].startswith("user: Plan the release")
    assert logs[heading + 1].startswith("  user: Sub-task of: Plan the release")
    assert logs[-1].startswith("  assistant: I worked on: Sub-task of: Plan the release")


def test_destroy_interrupts_a_busy_sub_agent_and_archives_only_the_root(
    stepped_sim: Any, tmp_path: Path
) -> None:
    sim, now = stepped_sim("2.38.0", time_scale=1.0)
    env = sim_env(sim)
    path = write_manifest(tmp_path, BODY)
    # A sub-agent busy far longer than destroy's patience with Coder's 409 (about 15 s).
    body = BODY.replace("batch: family\n", "batch: family\ndefaults: {wait: none}\n")
    body = body.replace(f"subagent={CHILD_WORK}", "subagent=100000")
    ok(run_tasks(["apply", write_manifest(tmp_path, body), "--yes"], env=env), sim)
    now.advance(2 * ROOT_WORK)  # the root is `waiting`, its sub-agent still busy
    root, child = family(sim)
    with step_per_look(now, 1.0, lambda: len(sim.requests)):
        ok(run_tasks(["destroy", path, "--yes"], env=env), sim)
    # Coder archives a root only with its whole family idle, and the family together
    # (CHATS-CONTRACT 7.2; ArchiveChatByID): the sub-agent was interrupted, never archived.
    assert touched(sim, child.id, "POST") == [f"/api/v2/chats/{child.id}/interrupt"]
    assert touched(sim, child.id, "PATCH") == []
    assert set(touched(sim, root.id, "PATCH")) == {f"/api/v2/chats/{root.id}"}
    assert root.archived and child.archived


@pytest.mark.parametrize("version", ["2.32.0", "2.38.0"])
def test_sub_agents_are_never_items_of_the_batch(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    # v2.32's unfiltered list shows sub-agents as rows (CHATS-CONTRACT 7.5); later ones nest them.
    options = {"experiments": ["agents"]} if version == "2.32.0" else {}
    sim = make_sim(version, **options)
    env = sim_env(sim)
    path = write_manifest(tmp_path, BODY.replace(f"subagent={CHILD_WORK}", "subagent=1"))
    backend = ["--backend", "chats"] if version == "2.32.0" else []
    ok(run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS], env=env), sim)
    listed = ok(run_tasks(["list", *backend], env=env), sim).output
    _, child = family(sim)
    assert child.id not in listed
    planned = ok(run_tasks(["plan", path, *backend], env=env), sim).output
    assert "0 to create, 0 to update, 0 to delete" in planned, planned
    destroyed = ok(run_tasks(["destroy", path, "--yes", *backend], env=env), sim).output
    assert "2 deleted" in destroyed, destroyed
    assert touched(sim, child.id, "PATCH") == touched(sim, child.id, "POST") == []
