"""Nothing a batch made on Chats is left behind: a pinned workspace whose chat was never made.

A run stopped between a pinned workspace's create and its chat's leaves a workspace no chat is
bound to. `apply --prune` and `destroy` find the batch's own (named with its marker, owned by the
token's user) and delete them; `tasks delete <batch>/<name>` deletes the chat's. Workspaces
without the batch's marker are never touched. The simulator's stores are the witnesses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, clean, run_tasks, running_tasks, sim_env, write_manifest

from runner import ownership
from runner.backends.chats import LABEL_BATCH, LABEL_ITEM
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

SERVERS = [("2.34.2", ("--backend", "chats")), ("2.38.0", ())]
EVENTS = 60.0
KEEP = """\
version: 1
batch: left
defaults: {template: claude-code, timeout: 60s}
tasks:
  - name: keep
    prompt: "keep [sim:work=1]"
"""
BOTH = (
    KEEP
    + """\
  - name: gone
    prompt: "gone [sim:work=1]"
"""
)


def client(sim: Any) -> ChatsClient:
    return ChatsClient(Connection(url=sim.url, token=sim.token))


def live_workspaces(sim: Any) -> set[str]:
    return {w.name for w in sim.store.workspaces if w.latest.transition != "delete"}


def deleting(sim: Any) -> set[str]:
    return {w.name for w in sim.store.workspaces if w.latest.transition == "delete"}


def items(sim: Any) -> list[str]:
    return sorted(
        c.labels[LABEL_ITEM] for c in client(sim).list_chats(labels={LABEL_BATCH: "left"})
    )


def apply(sim: Any, path: str, backend: tuple[str, ...], *more: str) -> Any:
    result = clean(
        run_tasks(["apply", path, "--yes", *backend, *FAST_WAITS, *more], env=sim_env(sim)), sim
    )
    assert result.code == 0, result.output
    return result


def stop_between_workspace_and_chat(sim: Any, path: str, backend: tuple[str, ...]) -> None:
    """Run an apply of `path` and SIGKILL it while its one chat create is on the server; that
    create is then dropped unanswered, so only the pinned workspace was made."""
    sim.arrivals.clear()
    sim.arrivals.hold("POST", "/api/*/chats")
    args = ["apply", path, "--yes", *backend, *FAST_WAITS]
    with running_tasks(args, env=sim_env(sim)) as proc:
        assert sim.arrivals.wait("POST", "/api/*/chats", timeout=EVENTS)
        proc.kill()
        proc.wait(timeout=10)
    sim.faults.add(method="POST", path=r"^/api/[^/]+/chats$", when="before", status=0)
    assert sim.arrivals.release(timeout=EVENTS)


@pytest.mark.parametrize(("version", "backend"), SERVERS, ids=["v2.34-chats", "v2.38"])
def test_prune_and_destroy_delete_a_pinned_workspace_whose_chat_was_never_made(
    make_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...]
) -> None:
    sim = make_sim(version)
    keep = write_manifest(tmp_path, KEEP, "keep.tasks.yaml")
    both = write_manifest(tmp_path, BOTH, "both.tasks.yaml")
    apply(sim, keep, backend)
    stop_between_workspace_and_chat(sim, both, backend)
    gone = ownership.coder_name("left", "gone")
    kept = ownership.coder_name("left", "keep")
    assert items(sim) == ["keep"] and gone in live_workspaces(sim)
    # Not the batch's: no marker, or another batch's marker. Neither is ever touched.
    found = client(sim).workspace_by_name("me", gone)
    assert found is not None
    version_id = found.template_version_id
    for name in ("by-hand", ownership.coder_name("other", "gone")):
        client(sim).create_workspace(name, version_id)

    # Without --prune the workspace is not the plan's business; with it, it goes alone.
    mark = len(sim.requests)
    assert gone not in apply(sim, keep, backend).stdout
    assert deleting(sim) == set()
    pruned = apply(sim, keep, backend, "--prune")
    assert gone in pruned.stdout and "1 deleted" in pruned.stdout
    assert deleting(sim) == {gone}
    assert live_workspaces(sim) == {kept, "by-hand", ownership.coder_name("other", "gone")}
    assert items(sim) == ["keep"]
    changes = [(r["method"], r["path"]) for r in sim.requests[mark:] if r["method"] != "GET"]
    assert len(changes) == 1 and changes[0][1].endswith("/builds"), changes

    # Then destroy: the batch's chat and its workspace go, nothing else.
    destroyed = clean(run_tasks(["destroy", keep, "--yes", *backend], env=sim_env(sim)), sim)
    assert destroyed.code == 0, destroyed.output
    assert items(sim) == []
    assert deleting(sim) == {gone, kept}
    assert live_workspaces(sim) == {"by-hand", ownership.coder_name("other", "gone")}


@pytest.mark.parametrize(("version", "backend"), SERVERS, ids=["v2.34-chats", "v2.38"])
def test_destroy_finds_a_leftover_of_an_item_still_in_the_manifest(
    make_sim: Any, tmp_path: Path, version: str, backend: tuple[str, ...]
) -> None:
    sim = make_sim(version)
    both = write_manifest(tmp_path, BOTH)
    apply(sim, write_manifest(tmp_path, KEEP, "keep.tasks.yaml"), backend)
    stop_between_workspace_and_chat(sim, both, backend)
    gone = ownership.coder_name("left", "gone")
    destroyed = clean(run_tasks(["destroy", both, "--yes", *backend], env=sim_env(sim)), sim)
    assert destroyed.code == 0, destroyed.output
    assert deleting(sim) == {gone, ownership.coder_name("left", "keep")}
    assert items(sim) == []


def test_delete_of_a_batch_chat_deletes_its_pinned_workspace(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    apply(sim, write_manifest(tmp_path, KEEP), ())
    deleted = clean(run_tasks(["delete", "left/keep", "--yes"], env=sim_env(sim)), sim)
    assert deleted.code == 0, deleted.output
    assert items(sim) == []
    assert deleting(sim) == {ownership.coder_name("left", "keep")}
