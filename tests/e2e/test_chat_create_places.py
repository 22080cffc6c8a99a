"""`tasks create` on Coder Agents (chats) with a template or an existing workspace, end to end.

A chat has no template: `--template` pins one by creating a workspace of its version (and
preset) and binding the chat to it (CHATS-CONTRACT 3, "pre-create the workspace", and 1.3
`workspace_id`), as a batch does; `--workspace` binds an existing workspace of the user's, named
as Coder's CLI names one (`namedWorkspace` in `cli/root.go`, Kortasfa/coder main of 2026-06-19:
a UUID, `name` or `owner/name`). The real command runs against the simulator over loopback; the
simulator's chats and workspaces are the witnesses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Result, ok, run_tasks, sim_env

from runner import ownership
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

PROMPT = "Fix the login bug [sim:work=1]"
PINNED = ownership.create_workspace_name("fix-login")
FULL = [
    "--template",
    "claude-code",
    "--model",
    "GPT-5",
    "--label",
    "team=web",
    "--name",
    "fix-login",
]


def tasks(args: list[str], sim: Any) -> Result:
    return run_tasks(args, env=sim_env(sim), timeout=60)


def model_id(sim: Any, name: str) -> str:
    return next(c.id for c in sim.chats.models if c.model == name)


def template(sim: Any, name: str = "claude-code", org: str = "coder") -> Any:
    org_id = next(o.id for o in sim.directory.orgs if o.name == org)
    return next(t for t in sim.directory.templates if t.name == name and t.org_id == org_id)


def live_workspaces(sim: Any) -> list[Any]:
    now = sim.clock.now()
    return [w for w in sim.store.workspaces if not w.gone(now)]


def workspace_creates(sim: Any) -> list[dict[str, Any]]:
    return [e for e in sim.exchanges if e["method"] == "POST" and e["path"].endswith("/workspaces")]


def a_workspace(sim: Any, name: str, owner: str = "admin") -> str:
    """A workspace made by hand (not by `tasks`), for `--workspace` to bind."""
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    version = template(sim).active_version_id
    return client.create_workspace(name, version, owner=owner).id


def test_template_pins_one_workspace_and_status_finds_the_chat(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    args = ["create", *FULL, PROMPT]
    created = ok(tasks(args, sim), sim)
    (chat,) = sim.chats.chats
    (workspace,) = live_workspaces(sim)
    assert chat.model_config_id == model_id(sim, "gpt-5")
    assert chat.labels == {"team": "web", "tasks/name": "fix-login"}
    assert chat.workspace_id == workspace.id
    assert workspace.name == PINNED
    assert workspace.latest.template_version_id == template(sim).active_version_id
    assert f"/agents/{chat.id}" in created.stdout
    status = ok(tasks(["status", "fix-login", "-o", "json"], sim), sim)
    found = json.loads(status.stdout)
    assert found["id"] == chat.id and found["workspace_id"] == workspace.id
    # The name again is refused before anything is made: no second chat, no second workspace.
    again = tasks(args, sim)
    assert again.code == 3 and 'a chat named "fix-login" exists already' in again.stderr
    assert len(sim.chats.chats) == 1 and len(workspace_creates(sim)) == 1


@pytest.mark.parametrize("lost", ["/api/v2/chats$", "/workspaces$"])
def test_a_lost_answer_with_a_template_makes_one_chat_and_one_workspace(
    make_sim: Any, lost: str
) -> None:
    sim = make_sim("2.38.0")
    sim.faults.add(method="POST", path=lost, when="after")
    created = ok(tasks(["create", *FULL, "-q", PROMPT], sim), sim)
    (chat,) = sim.chats.chats
    (workspace,) = live_workspaces(sim)
    assert created.stdout.strip() == chat.id
    assert chat.workspace_id == workspace.id and workspace.name == PINNED
    assert chat.model_config_id == model_id(sim, "gpt-5")
    assert chat.labels == {"team": "web", "tasks/name": "fix-login"}
    assert len(workspace_creates(sim)) == 1  # adopted by name, not created again
    status = ok(tasks(["status", "fix-login", "-o", "json"], sim), sim)
    assert json.loads(status.stdout)["id"] == chat.id


def test_a_rerun_after_a_failed_chat_create_reuses_the_workspace(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    # The chat's create is refused before the server does anything: the workspace stays.
    sim.faults.add(method="POST", path="/api/v2/chats$", when="before", status=400)
    args = ["create", "--template", "claude-code", "--name", "fix-login", "-q", PROMPT]
    assert tasks(args, sim).code != 0
    assert sim.chats.chats == [] and len(live_workspaces(sim)) == 1
    created = ok(tasks(args, sim), sim)
    (chat,) = sim.chats.chats
    (workspace,) = live_workspaces(sim)
    assert created.stdout.strip() == chat.id and chat.workspace_id == workspace.id


def test_version_and_preset_are_pinned(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    claude = template(sim)
    v1 = next(v for v in claude.versions if v.name == "v1")
    large = next(p for p in v1.presets if p.name == "Large")
    args = ["create", "--template", "claude-code", "--template-version", "v1"]
    ok(tasks([*args, "--preset", "Large", "-q", PROMPT], sim), sim)
    (workspace,) = live_workspaces(sim)
    assert workspace.latest.template_version_id == v1.id
    assert workspace.latest.preset_id == large.id
    assert sim.chats.chats[0].workspace_id == workspace.id


def test_org_alone_creates_the_chat_there_without_a_workspace(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    ok(tasks(["create", "--org", "coder", "-q", PROMPT], sim), sim)
    (chat,) = sim.chats.chats
    assert chat.org_id == next(o.id for o in sim.directory.orgs if o.name == "coder")
    assert chat.workspace_id is None and live_workspaces(sim) == []


@pytest.mark.parametrize("form", ["name", "owner/name", "id"])
def test_workspace_binds_an_existing_workspace_of_the_user(make_sim: Any, form: str) -> None:
    sim = make_sim("2.38.0")
    workspace_id = a_workspace(sim, "dev")
    ref = {"name": "dev", "owner/name": "admin/dev", "id": workspace_id}[form]
    ok(tasks(["create", "--workspace", ref, "-q", PROMPT], sim), sim)
    (chat,) = sim.chats.chats
    assert chat.workspace_id == workspace_id
    assert len(live_workspaces(sim)) == 1 and len(workspace_creates(sim)) == 1  # ours only


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["--template", "nope"], "get template: Resource not found"),
        (["--template", "claude-code", "--preset", "Huge"], 'preset "Huge" not found'),
        (["--workspace", "nope"], '--workspace: no workspace "nope" of yours found'),
        (["--workspace", "alice/theirs"], '"alice/theirs" belongs to alice, not to admin'),
        (["--workspace", "a/b/c"], 'invalid workspace name: "a/b/c"'),
        (["--workspace", "dev", "--template", "claude-code"], "it takes no --template"),
        (["--preset", "Large"], "give --template"),
        (["--org", "nope"], 'organization "nope" not found'),
        (["--template", "claude-code", "--name", "Not a name"], "also names the chat's workspace"),
    ],
)
def test_bad_places_are_one_line_and_create_nothing(
    make_sim: Any, args: list[str], wanted: str
) -> None:
    sim = make_sim("2.38.0")
    a_workspace(sim, "theirs", owner="alice")  # alice's: the admin could bind it, but may not
    before = len(sim.store.workspaces)
    result = tasks(["create", *args, PROMPT], sim)
    assert result.code != 0, result.output
    assert wanted in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert sim.chats.chats == [] and len(sim.store.workspaces) == before


def test_workspace_is_refused_on_tasks(make_sim: Any) -> None:
    sim = make_sim("2.34.2")
    result = tasks(["create", "--template", "claude-code", "--workspace", "dev", PROMPT], sim)
    assert result.code == 3 and "--workspace needs Chats" in result.stderr
    assert sim.store.tasks == []


def test_delete_removes_the_workspace_create_pinned_and_only_that(make_sim: Any) -> None:
    """`coder task delete` takes the task's workspace with it; a chat's archive leaves its
    workspace running (CHATS-CONTRACT 7.4), so `tasks delete` deletes the one `tasks create
    --template` made for the chat, and never one the chat was only bound to."""
    sim = make_sim("2.38.0")
    ok(tasks(["create", *FULL, "-q", PROMPT], sim), sim)
    bound_to = a_workspace(sim, "dev")
    ok(tasks(["create", "--workspace", "dev", "--name", "on-dev", "-q", PROMPT], sim), sim)
    ok(tasks(["delete", "--yes", "fix-login", "on-dev"], sim), sim)
    assert all(chat.archived for chat in sim.chats.chats)
    assert [w.id for w in live_workspaces(sim) if w.name != PINNED] == [bound_to]
    (pinned,) = [w for w in sim.store.workspaces if w.name == PINNED]
    assert pinned.latest.transition == "delete"


def test_delete_keeps_a_pinned_workspace_another_live_chat_was_bound_to(make_sim: Any) -> None:
    sim = make_sim("2.38.0")
    ok(tasks(["create", *FULL, "-q", PROMPT], sim), sim)
    ok(tasks(["create", "--workspace", PINNED, "--name", "again", "-q", PROMPT], sim), sim)
    ok(tasks(["delete", "--yes", "fix-login"], sim), sim)
    assert [w.name for w in live_workspaces(sim)] == [PINNED]
