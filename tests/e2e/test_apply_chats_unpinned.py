"""Chats without a template, the refusals Chats needs, and prune of a busy chat, end to end.

The real command in a subprocess against the simulator over loopback; the simulator's stores
and its log of exchanges (with request bodies) are the witnesses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, write_manifest
from test_apply_chats import BATCH, batch_chats, client, tasks, version_id, workspaces, writes

from runner import ownership
from runner.backends.chats import LABEL_BATCH, LABEL_ITEM

UNPINNED = """\
version: 1
batch: free
defaults:
  timeout: 60s
tasks:
  - name: anywhere
    prompt: "Look around [sim:work=1]"
  - name: pinned
    prompt: "Fix it [sim:work=1]"
    template: claude-code
    preset: Small
"""


def created_chats(sim: Any) -> list[dict[str, Any]]:
    """The bodies of every chat create the simulator answered, in order."""
    return [
        json.loads(e["body"])
        for e in sim.exchanges
        if e["method"] == "POST" and e["path"].endswith("/chats") and e["status"] == 201
    ]


@pytest.mark.parametrize("version", ["2.38.0", "2.34.2"])
def test_a_task_without_a_template_is_a_chat_with_no_pinned_workspace(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    """Without a `workspace_id` the agent picks its own environment (CHATS-CONTRACT 1.3), so
    apply creates no workspace for such a task; v2.34 requires `organization_id` (1.3), which
    is then the user's default organization (the simulated admin belongs to `coder` only)."""
    sim = make_sim(version)
    path = write_manifest(tmp_path, UNPINNED)
    # v2.34 serves Tasks too, so `auto` would pick them; v2.38 has only Chats.
    backend = ["--backend", "chats"] if version == "2.34.2" else []
    ok(tasks(["apply", path, "--yes", *backend, *FAST_WAITS], sim), sim)
    chats = batch_chats(sim, "free")
    (anywhere,), (pinned,) = chats["anywhere"], chats["pinned"]
    assert anywhere.workspace_id is None
    assert pinned.workspace_id
    assert [w.name for w in workspaces(sim)] == [ownership.coder_name("free", "pinned")]
    bodies = {body["labels"][LABEL_ITEM]: body for body in created_chats(sim)}
    assert "workspace_id" not in bodies["anywhere"]
    assert bodies["pinned"]["workspace_id"] == pinned.workspace_id
    # Both servers require it (v2.34+); no template named none, so it is the default one.
    coder_org = next(o.id for o in sim.directory.orgs if o.name == "coder")
    assert bodies["anywhere"]["organization_id"] == coder_org

    # Nothing pinned, nothing to drift from: a second plan has no changes.
    again = ok(tasks(["plan", path, "--detailed-exitcode", *backend], sim), sim)
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 drifted." in again.stdout

    # A template added later is drift: the chat has none pinned.
    pinning = UNPINNED.replace(
        '    prompt: "Look around [sim:work=1]"\n',
        '    prompt: "Look around [sim:work=1]"\n    template: docker\n',
    )
    assert pinning != UNPINNED
    drifted = ok(
        tasks(["plan", write_manifest(tmp_path, pinning, "p.tasks.yaml"), *backend], sim), sim
    )
    assert "no template pinned, manifest says 'docker'" in drifted.stdout, drifted.stdout

    # A saved plan carries the missing template and applies as planned.
    more = UNPINNED + '  - name: later\n    prompt: "Later [sim:work=1]"\n'
    plan_file = tmp_path / "plan.json"
    more_path = write_manifest(tmp_path, more, "more.tasks.yaml")
    ok(tasks(["plan", more_path, "--out", str(plan_file), *backend], sim), sim)
    saved = json.loads(plan_file.read_text())
    assert {d["name"]: d["template"] for d in saved["desired"]} == {
        "anywhere": None,
        "pinned": "claude-code",
        "later": None,
    }
    ok(tasks(["apply", str(plan_file), "--yes", *FAST_WAITS], sim), sim)
    (later,) = batch_chats(sim, "free")["later"]
    assert later.workspace_id is None
    assert len(workspaces(sim)) == 1

    rendered = ok(tasks(["render", more_path, "-o", "json"], sim), sim)
    documents = {t["name"]: t for t in json.loads(rendered.stdout)["tasks"]}
    assert "template" not in documents["later"] and documents["pinned"]["template"] == "claude-code"

    # Destroy archives all three and deletes only the one workspace apply made.
    destroyed = ok(tasks(["destroy", more_path, "--yes", *backend], sim), sim)
    assert "3 deleted" in destroyed.stdout, destroyed.stdout
    assert not batch_chats(sim, "free")
    assert [w.latest.transition for w in workspaces(sim)] == ["delete"]


@pytest.mark.parametrize("how", [["--backend", "tasks"], []])
def test_tasks_refuses_a_task_without_a_template_at_its_line(
    make_sim: Any, tmp_path: Path, how: list[str]
) -> None:
    """On v2.34 `auto` picks Tasks (the server serves them), so the refusal comes after the
    choice, from preflight, before anything is created."""
    sim = make_sim("2.34.2")
    path = write_manifest(tmp_path, UNPINNED)
    result = tasks(["plan", path, *how], sim)
    assert result.code == 3, result.output
    assert result.stderr == (
        f"error: {path}:6: task 'anywhere': Tasks needs a template (Coder Tasks creates every "
        "task from one); set `template` in the task or in defaults, or run the batch on chats\n"
    )
    applied = tasks(["apply", path, "--yes", *how], sim)
    assert applied.code == 3 and applied.stderr == result.stderr
    assert writes(sim) == []


@pytest.mark.parametrize("version", ["2.34.2", "2.38.0"])
def test_another_owner_is_refused_in_one_plain_line(
    make_sim: Any, tmp_path: Path, version: str
) -> None:
    """Refused on every version: only a chat's owner may send to it (CHATS-CONTRACT 1.4) or
    list it (1.5), and what GA's `owner_id` needs is open (open question 7), so a chat made
    for another user could neither be followed up nor found again after a lost response."""
    sim = make_sim(version)
    body = UNPINNED.replace("  - name: pinned\n", "  - name: pinned\n    owner: alice\n")
    path = write_manifest(tmp_path, body)
    result = tasks(["apply", path, "--yes", "--backend", "chats"], sim)
    assert result.code == 3, result.output
    assert result.stderr == (
        f"error: {path}:8: task 'pinned': owner 'alice': chats belong to the token's user "
        "(admin), and only a chat's owner can list it or send to it, so this batch could "
        "neither follow up nor find a chat made for alice; run it with alice's token\n"
    )
    assert writes(sim) == []


#: The chats batch's header (batch `nightly`, template `claude-code`), with its own tasks.
PRUNE = (
    BATCH[: BATCH.index("tasks:\n") + len("tasks:\n")]
    + """\
  - name: keep
    prompt: "Keep going [sim:work=1]"
  - name: slow
    prompt: "Work a very long time [sim:work=100000]"
    wait: none
"""
)


def test_prune_interrupts_a_busy_chat_archives_it_and_deletes_only_its_workspace(
    make_sim: Any, tmp_path: Path
) -> None:
    """CHATS-CONTRACT 6 "Delete": interrupt a chat that is not idle, archive it (409 retried
    while it settles), then delete the workspace the runner pre-created, and nothing else."""
    sim = make_sim("2.38.0")
    ok(tasks(["apply", write_manifest(tmp_path, PRUNE), "--yes", *FAST_WAITS], sim), sim)
    coder = client(sim)
    (slow,) = batch_chats(sim)["slow"]
    (keep,) = batch_chats(sim)["keep"]
    assert coder.get_chat(slow.id).status == "running"  # busy for the whole test
    # Look-alikes that are not the batch's: the same title by hand, and a batch whose name
    # starts the same with the same item, bound to its own workspace.
    by_hand = coder.create_chat("By hand [sim:work=100000]", title="nightly: slow")
    v2, _ = version_id(sim, "claude-code", "v2")
    theirs = coder.create_workspace(ownership.coder_name("nightly-2", "slow"), v2)
    other = coder.create_chat(
        "Other batch [sim:work=100000]",
        labels={LABEL_BATCH: "nightly-2", LABEL_ITEM: "slow"},
        workspace_id=theirs.id,
        title="nightly-2: slow",
    )
    since = len(sim.requests)

    without = PRUNE[: PRUNE.index("  - name: slow")]
    pruned = ok(
        tasks(
            [
                "apply",
                write_manifest(tmp_path, without, "b2.tasks.yaml"),
                "--yes",
                "--prune",
                *FAST_WAITS,
            ],
            sim,
        ),
        sim,
    )
    assert "1 deleted" in pruned.stdout, pruned.stdout

    changed = writes(sim, since)
    interrupt = [n for n, w in enumerate(changed) if w[1].endswith(f"/{slow.id}/interrupt")]
    archive = [n for n, w in enumerate(changed) if w[0] == "PATCH" and w[1].endswith(slow.id)]
    assert len(interrupt) == 1 and archive and interrupt[0] < archive[0]
    assert changed[archive[-1]][2] in (200, 204)
    # Only the pruned chat and its workspace were written to.
    touched = {w[1] for w in changed}
    assert not any(c.id in p for p in touched for c in (by_hand, other, keep))
    assert coder.get_chat(slow.id).archived
    for survivor in (by_hand, other, keep):
        assert not coder.get_chat(survivor.id).archived
    assert coder.get_chat(by_hand.id).status == coder.get_chat(other.id).status == "running"
    deleting = {w.name for w in workspaces(sim) if w.latest.transition == "delete"}
    assert deleting == {ownership.coder_name("nightly", "slow")}
    assert {w.name for w in workspaces(sim)} == {
        ownership.coder_name("nightly", "slow"),
        ownership.coder_name("nightly", "keep"),
        ownership.coder_name("nightly-2", "slow"),
    }
