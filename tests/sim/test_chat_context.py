"""The workspace context a simulated chat stores as a message (CHATS-CONTRACT 7.2).

v2.32 to v2.34 insert a bound workspace's context (AGENTS.md, skills) after the first user
message: role `user`, no `created_by`, parts `context-file` and `skill`, no text part, and
the chat's `last_injected_context` (`release/2.32` chatd.go, about line 5255). From v2.35
context is no longer a message (`cd56ab9e3`, PR #26585); a chat with no workspace gets none.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def start(stepped_sim: Any, version: str) -> tuple[httpx.Client, str, str, str]:
    """A deployment whose time stands still (no turn ends), and a workspace to bind."""
    experiments = ("agents",) if version.startswith(("2.32", "2.33")) else ()
    server, _ = stepped_sim(version, experiments=experiments)
    http = httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.token})
    prefix = "/api/v2/chats" if server.version.at_least(2, 37) else "/api/experimental/chats"
    org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
    template = next(t for t in server.directory.templates if t.name == "claude-code")
    made = http.post(
        "/api/v2/users/me/workspaces",
        json={"name": "ctx-ws", "template_version_id": template.versions[0].id},
    )
    assert made.status_code == 201, made.text
    return http, prefix, org, made.json()["id"]


def chat(http: httpx.Client, prefix: str, org: str, workspace: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"organization_id": org, "content": [{"type": "text", "text": "Hi"}]}
    if workspace:
        body["workspace_id"] = workspace
    created = http.post(prefix, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


@pytest.mark.parametrize("version", ["2.32.1", "2.33.0", "2.34.2"])
def test_a_bound_chat_stores_its_workspace_context_after_the_first_prompt(
    stepped_sim: Any, version: str
) -> None:
    http, prefix, org, workspace = start(stepped_sim, version)
    made = chat(http, prefix, org, workspace)
    oldest_first = http.get(f"{prefix}/{made['id']}/messages").json()["messages"][::-1]
    prompt, context = oldest_first[:2]
    assert prompt["role"] == "user" and "created_by" in prompt
    assert context["role"] == "user" and "created_by" not in context
    assert [p["type"] for p in context["content"]] == ["context-file", "skill"]
    assert all(p["text"] == "" for p in context["content"])  # no text part
    assert context["content"][0]["context_file_path"].endswith("AGENTS.md")
    assert made["last_injected_context"] == context["content"]
    unbound = chat(http, prefix, org, None)
    messages = http.get(f"{prefix}/{unbound['id']}/messages").json()["messages"]
    assert [m["role"] for m in messages] == ["user"] and "last_injected_context" not in unbound


@pytest.mark.parametrize("version", ["2.35.0", "2.38.0"])
def test_context_is_no_message_from_v2_35(stepped_sim: Any, version: str) -> None:
    http, prefix, org, workspace = start(stepped_sim, version)
    made = chat(http, prefix, org, workspace)
    messages = http.get(f"{prefix}/{made['id']}/messages").json()["messages"]
    assert [m["role"] for m in messages] == ["user"]
    assert "last_injected_context" not in made
