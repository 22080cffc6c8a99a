"""`tasks apply`, `plan` and `destroy` on Coder Agents (chats), end to end.

The real command in a subprocess against the simulator over loopback. The simulator's request
log and its stores are the witnesses: which chats and workspaces exist, which messages each chat
got, and which requests changed anything.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, Result, ok, run_tasks, sim_env, write_manifest

from runner import ownership
from runner.backends.chats import LABEL_BATCH, LABEL_ITEM, LABEL_SPEC
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

BATCH = """\
version: 1
batch: nightly
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: auth
    prompt: "Add auth [sim:work=2]"
    template_version: v1
    preset: Large
    follow_ups:
      - "Please also add unit tests."
      - "And docs."
  - name: "fix-{{ matrix.svc }}"
    prompt: "Fix the flaky tests in {{ matrix.svc }} [sim:work=1]"
    matrix:
      svc: [users, billing]
"""
PROMPTS = {
    "auth": [
        "Add auth [sim:work=2]",
        "Please also add unit tests.",
        "And docs.",
    ],
    "fix-users": ["Fix the flaky tests in users [sim:work=1]"],
    "fix-billing": ["Fix the flaky tests in billing [sim:work=1]"],
}


def tasks(args: list[str], sim: Any, timeout: float = 120) -> Result:
    return run_tasks(args, env=sim_env(sim), timeout=timeout)


def client(sim: Any) -> ChatsClient:
    return ChatsClient(Connection(url=sim.url, token=sim.token))


def writes(sim: Any, since: int = 0) -> list[tuple[str, str, int]]:
    """Every mutating request the simulator answered after request number `since`."""
    return [
        (r["method"], r["path"], r["status"])
        for r in sim.requests[since:]
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
    ]


def batch_chats(sim: Any, batch: str = "nightly", archived: bool = False) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = collections.defaultdict(list)
    for chat in client(sim).list_chats(labels={LABEL_BATCH: batch}, archived=archived):
        found[chat.labels[LABEL_ITEM]].append(chat)
    return found


def user_messages(sim: Any, chat_id: str) -> list[str]:
    """What was sent to the chat: `user` messages with text (v2.32 to v2.34 also store the
    workspace's context as a `user` message without text; CHATS-CONTRACT 7.2)."""
    return [m.text for m in client(sim).history(chat_id) if m.role == "user" and m.text]


def version_id(
    sim: Any, template: str, version: str, org: str = "coder"
) -> tuple[str, dict[str, str]]:
    """A simulated template version's id and its presets' ids by name."""
    directory = sim.directory
    org_id = next(o.id for o in directory.orgs if o.name == org)
    found = next(t for t in directory.templates if t.name == template and t.org_id == org_id)
    chosen = next(v for v in found.versions if v.name == version)
    return chosen.id, {p.name: p.id for p in chosen.presets}


def workspaces(sim: Any) -> list[Any]:
    return list(sim.store.workspaces)


@pytest.mark.parametrize("backend", ["tasks", "chats"])
def test_the_same_manifest_converges_on_v2_34_with_either_backend(
    make_sim: Any, tmp_path: Path, backend: str
) -> None:
    sim = make_sim("2.34.2")
    path = write_manifest(tmp_path, BATCH)
    first = ok(tasks(["apply", path, "--yes", "--backend", backend, *FAST_WAITS], sim), sim)
    assert "Apply: 3 ok" in first.stdout
    chats = batch_chats(sim)
    if backend == "chats":
        assert {k: len(v) for k, v in chats.items()} == {k: 1 for k in PROMPTS}
        for item, (chat,) in chats.items():
            assert user_messages(sim, chat.id) == PROMPTS[item]
    else:
        assert not chats  # the Tasks backend made tasks, no chats
        assert sum(1 for m, p, s in writes(sim) if p.endswith("/tasks/admin") and s == 201) == 3
    mark = len(sim.requests)
    second = ok(tasks(["apply", path, "--yes", "--backend", backend, *FAST_WAITS], sim), sim)
    assert "3 unchanged" in second.stdout
    assert writes(sim, mark) == []


def test_auto_runs_chats_on_v2_38_and_a_second_apply_changes_nothing(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, BATCH)
    report = tmp_path / "report.json"
    ok(tasks(["apply", path, "--yes", "--report", str(report), *FAST_WAITS], sim), sim)
    chats = batch_chats(sim)
    assert {k: len(v) for k, v in chats.items()} == {k: 1 for k in PROMPTS}
    (auth,) = chats["auth"]
    assert f"/agents/{auth.id}" in report.read_text()  # the dashboard shows a chat there
    # v2.38 takes no `title` on create (CHATS-CONTRACT 7.5: v2.39): Coder names the chat after
    # the prompt, and nothing of the batch depends on the title.
    assert auth.title == "Add auth [sim:work=2]"
    assert auth.labels[LABEL_SPEC] and len(auth.labels[LABEL_SPEC]) == 16
    mark = len(sim.requests)
    ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    assert writes(sim, mark) == []
    # Observation is one labelled list, not a request per chat.
    lists = [
        r for r in sim.requests[mark:] if r["method"] == "GET" and r["path"] == "/api/v2/chats"
    ]
    assert lists and all(r["path"] == "/api/v2/chats" for r in lists)


def test_tasks_on_a_server_without_tasks_is_one_line(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    result = tasks(["plan", write_manifest(tmp_path, BATCH), "--backend", "tasks"], sim)
    assert result.code != 0
    assert result.stderr.count("\n") == 1 and "does not serve Coder Tasks" in result.stderr
    assert writes(sim) == []


def test_chats_on_a_server_without_chats_is_one_line(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.31.1")
    result = tasks(["plan", write_manifest(tmp_path, BATCH), "--backend", "chats"], sim)
    assert result.code != 0
    assert result.stderr.count("\n") == 1 and "has no Chats API" in result.stderr
    assert writes(sim) == []


def test_faults_and_a_rate_limit_still_give_one_chat_per_task(
    make_sim: Any, tmp_path: Path
) -> None:
    """10% of requests fail before the server acts, 10% lose their answer after, plus a rate
    limit: each chat, each pinned workspace and each follow-up still happens exactly once."""
    sim = make_sim("2.38.0", fail_rate=0.1, lose_rate=0.1, rate_limit=60, seed=11)
    path = write_manifest(tmp_path, BATCH)
    results = []
    for _ in range(4):  # a task may fail one apply (its wait timed out); the next converges it
        results.append(tasks(["apply", path, "--yes", *FAST_WAITS], sim, timeout=300))
        assert "Traceback" not in results[-1].output
        if results[-1].code == 0:
            break
    assert results[-1].code == 0, "\n".join(r.output for r in results)
    sim.faults.fail_rate = sim.faults.lose_rate = 0.0
    chats = batch_chats(sim)
    assert {k: len(v) for k, v in chats.items()} == {k: 1 for k in PROMPTS}
    assert not batch_chats(sim, archived=True)
    for item, (chat,) in chats.items():
        assert user_messages(sim, chat.id) == PROMPTS[item]  # once each, in order
    named = collections.Counter(w.name for w in workspaces(sim))
    assert named == {ownership.coder_name("nightly", item): 1 for item in PROMPTS}
    v1, presets = version_id(sim, "claude-code", "v1")
    auth = next(w for w in workspaces(sim) if w.name == ownership.coder_name("nightly", "auth"))
    assert auth.builds[0].template_version_id == v1
    assert auth.builds[0].preset_id == presets["Large"]
    (auth_chat,) = chats["auth"]
    assert auth_chat.workspace_id == auth.id


def test_prune_archives_only_the_batch_chats_and_deletes_only_its_workspaces(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, BATCH)
    ok(tasks(["apply", path, "--yes", *FAST_WAITS], sim), sim)
    coder = client(sim)
    by_hand = coder.create_chat("hand made [sim:work=1]", title="nightly: fix-users")
    other = coder.create_chat(
        "another batch [sim:work=1]",
        labels={LABEL_BATCH: "nightly-2", LABEL_ITEM: "fix-users"},
        title="nightly-2: fix-users",
    )
    v2, _ = version_id(sim, "claude-code", "v2")
    scratch = coder.create_workspace("scratch", v2)
    # A chat of the batch bound to a workspace apply did not make: archived, workspace kept.
    bound = coder.create_chat(
        "old item [sim:work=1]",
        labels={LABEL_BATCH: "nightly", LABEL_ITEM: "old"},
        workspace_id=scratch.id,
    )
    only_auth = BATCH.replace(
        "    matrix:\n      svc: [users, billing]\n", "    matrix:\n      svc: [users]\n"
    )
    pruned = ok(
        tasks(
            [
                "apply",
                write_manifest(tmp_path, only_auth, "b2.tasks.yaml"),
                "--yes",
                "--prune",
                *FAST_WAITS,
            ],
            sim,
        ),
        sim,
    )
    assert "2 deleted" in pruned.stdout, pruned.stdout
    archived = batch_chats(sim, archived=True)
    assert set(archived) == {"fix-billing", "old"}
    live = {c.id for c in coder.list_chats()}
    assert {by_hand.id, other.id} <= live and bound.id not in live
    deleting = {w.name for w in workspaces(sim) if w.latest.transition == "delete"}
    assert deleting == {ownership.coder_name("nightly", "fix-billing")}
    destroyed = ok(tasks(["destroy", path, "--yes"], sim), sim)
    assert "2 deleted" in destroyed.stdout
    live = {c.id for c in coder.list_chats()}
    assert {by_hand.id, other.id} <= live
    assert not batch_chats(sim)
    kept = {w.name for w in workspaces(sim) if w.latest.transition != "delete"}
    assert kept == {"scratch"}


@pytest.mark.parametrize(
    ("directive", "message"),
    [("[sim:error]", ""), ("[sim:requires-action]", "needs tool results")],
)
def test_a_chat_in_error_or_requiring_action_fails_its_task(
    make_sim: Any, tmp_path: Path, directive: str, message: str
) -> None:
    sim = make_sim("2.38.0")
    body = f"""\
version: 1
batch: nightly
defaults:
  template: claude-code
  timeout: 60s
  wait: idle
tasks:
  - name: broken
    prompt: "Do it {directive}"
"""
    result = tasks(["apply", write_manifest(tmp_path, body), "--yes", *FAST_WAITS], sim)
    assert result.code != 0
    assert "failed" in result.stdout
    if message:
        assert message in result.stdout
    else:
        (chat,) = batch_chats(sim)["broken"]
        error = client(sim).get_chat(chat.id).last_error
        assert error is not None and error.message[:40] in result.stdout


def test_a_changed_prompt_drifts_and_replace_recreates(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    ok(tasks(["apply", write_manifest(tmp_path, BATCH), "--yes", *FAST_WAITS], sim), sim)
    changed = BATCH.replace("Add auth [sim:work=2]", "Add OAuth [sim:work=1]")
    path = write_manifest(tmp_path, changed, "changed.tasks.yaml")
    planned = ok(tasks(["plan", path], sim), sim)
    assert "prompt differs" in planned.stdout
    (old,) = batch_chats(sim)["auth"]
    ok(tasks(["apply", path, "--yes", "--replace", *FAST_WAITS], sim, timeout=180), sim)
    (new,) = batch_chats(sim)["auth"]
    assert new.id != old.id
    assert [c.id for c in batch_chats(sim, archived=True)["auth"]] == [old.id]
    assert user_messages(sim, new.id)[0] == "Add OAuth [sim:work=1]"
    assert new.workspace_id and new.workspace_id != old.workspace_id


@pytest.mark.parametrize(
    ("version", "experiments"),
    [("2.33.0", ("agents",)), ("2.34.2", ()), ("2.38.0", ())],
    ids=["v2.33-agents", "v2.34", "v2.38"],
)
def test_a_chat_batch_converges_with_the_organization_on_every_create(
    make_sim: Any, tmp_path: Path, version: str, experiments: tuple[str, ...]
) -> None:
    """CHATS-CONTRACT 7.1: v2.33 already requires `organization_id` (PR #23827), so every create
    carries it; follow-ups arrive once and in order, and a second apply changes nothing. Every
    exchange is judged by the contract net afterwards (make_sim)."""
    sim = make_sim(version, experiments=experiments)
    path = write_manifest(tmp_path, BATCH)
    first = ok(tasks(["apply", path, "--yes", "--backend", "chats", *FAST_WAITS], sim), sim)
    assert "Apply: 3 ok" in first.stdout
    chats = batch_chats(sim)
    assert {k: len(v) for k, v in chats.items()} == {k: 1 for k in PROMPTS}
    for item, (chat,) in chats.items():
        assert user_messages(sim, chat.id) == PROMPTS[item]
    coder_org = next(o.id for o in sim.directory.orgs if o.name == "coder")
    creates = [
        json.loads(e["body"])
        for e in sim.exchanges
        if e["method"] == "POST" and e["path"].endswith("/chats") and e["status"] == 201
    ]
    assert len(creates) == 3
    assert all(body["organization_id"] == coder_org for body in creates)
    assert not any("title" in body for body in creates)  # v2.39's (7.5)
    mark = len(sim.requests)
    second = ok(tasks(["apply", path, "--yes", "--backend", "chats", *FAST_WAITS], sim), sim)
    assert "3 unchanged" in second.stdout
    assert writes(sim, mark) == []
