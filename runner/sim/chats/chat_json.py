"""What a stored chat looks like on the wire, per generation.

Field sets and order follow `codersdk.Chat` in Coder's `codersdk/chats.go`: at tag v2.33.0-rc.1
for v2.32 (no organization, `last_error` a string or null, always present), at fc2493780
(2026-04-20) for v2.33 (the same plus `organization_id`, `client_type` and `children`;
CHATS-CONTRACT 7.1), and at the contract's HEAD commit from v2.34 on (no v2.34 tag exists in that
snapshot; CHATS-CONTRACT section 0). Fields with `omitempty` appear only when set.
"""

from __future__ import annotations

from typing import Any

from runner.sim.chats.generation import ChatGeneration
from runner.sim.chats.record import (
    ChatRecord,
    PullRequest,
    QueuedMessage,
    StoredMessage,
    text_part,
)
from runner.sim.clock import rfc3339
from runner.sim.directory import Directory


def chat_json(
    gen: ChatGeneration,
    directory: Directory,
    chat: ChatRecord,
    status: str,
    children: tuple[dict[str, Any], ...] = (),
    *,
    queued: bool = False,
) -> dict[str, Any]:
    """`codersdk.Chat` for the simulated generation, with its sub-agent chats' bodies;
    `queued` only from a single-chat read (CHATS-CONTRACT 7.4)."""
    body: dict[str, Any] = {"id": chat.id, **_owner(gen, directory, chat), **_workspace(chat)}
    if chat.parent_id:  # nesting depth is one: the parent is the root
        body["parent_chat_id"] = chat.parent_id
        body["root_chat_id"] = chat.parent_id
    body.update(
        {
            "last_model_config_id": chat.model_config_id,
            "title": chat.title,
            "status": status,
        }
    )
    if chat.injected_context is not None:
        # `omitempty`; declared by chats-swagger-head.json, set with the context message
        # (CHATS-CONTRACT 7.2).
        body["last_injected_context"] = [dict(p) for p in chat.injected_context]
    body.update(_outcome(gen, chat))
    body.update(
        {
            "created_at": rfc3339(chat.created_at),
            "updated_at": rfc3339(chat.updated_at),
            "archived": chat.archived,
        }
    )
    if gen.owner_names:
        body["shared"] = False
    body.update(
        {
            "pin_order": 0,
            "mcp_server_ids": [],
            "labels": dict(chat.labels),
            "has_unread": False,
        }
    )
    if queued:  # `omitempty`, after `context` (codersdk/chats.go, erickirt/coder c9a1e2bce)
        body["queued_for_capacity"] = True
    if gen.org_scoped:
        body["client_type"] = chat.client_type
        body["children"] = list(children)  # always present (`[]`), from v2.33
    return body


def _workspace(chat: ChatRecord) -> dict[str, Any]:
    """Where the chat works, each field `omitempty`."""
    body: dict[str, Any] = {}
    if chat.workspace_id:
        body["workspace_id"] = chat.workspace_id
        if chat.build_id:
            body["build_id"] = chat.build_id
        if chat.agent_id:
            body["agent_id"] = chat.agent_id
    return body


def _outcome(gen: ChatGeneration, chat: ChatRecord) -> dict[str, Any]:
    """The last turn's error (an object from v2.34, a string before), its summary,
    and the pull request Coder tracks for the chat."""
    body: dict[str, Any] = {}
    if gen.structured_error:
        if chat.last_error is not None:
            body["last_error"] = {"message": chat.last_error, "kind": "generic", "retryable": False}
        body["last_turn_summary"] = chat.turn_summary
    else:
        body["last_error"] = chat.last_error
    if chat.pull_request is not None:
        body["diff_status"] = _diff_status(chat.id, chat.pull_request)
    return body


def _owner(gen: ChatGeneration, directory: Directory, chat: ChatRecord) -> dict[str, Any]:
    """The owner fields: with the organization from v2.33 and the owner's names from v2.34."""
    fields: dict[str, Any] = {"organization_id": chat.org_id} if gen.org_scoped else {}
    fields["owner_id"] = chat.owner_id
    if gen.owner_names:
        owner = directory.user(chat.owner_id)
        fields.update({"owner_username": owner.username, "owner_name": owner.name})
    return fields


def _diff_status(chat_id: str, pr: PullRequest) -> dict[str, Any]:
    """`diff_status`: the pull request Coder tracks for the chat."""
    return {
        "chat_id": chat_id,
        "url": f"https://github.com/example/repo/pull/{pr.number}",
        "pull_request_state": "open",
        "pull_request_title": pr.title,
        "pull_request_draft": False,
        "changes_requested": False,
        "additions": 12,
        "deletions": 3,
        "changed_files": 2,
        "base_branch": "main",
        "head_branch": pr.head_branch,
        "pr_number": pr.number,
        "refreshed_at": rfc3339(pr.at),
    }


def message_json(chat_id: str, message: StoredMessage) -> dict[str, Any]:
    """`codersdk.ChatMessage`."""
    body: dict[str, Any] = {"id": message.id, "chat_id": chat_id}
    if message.created_by:
        body["created_by"] = message.created_by
    body.update(
        {
            "created_at": rfc3339(message.at),
            "role": message.role,
            "content": [dict(p) for p in message.parts],
        }
    )
    if message.model_config_id:  # CHATS-CONTRACT 7.3: each message carries its turn's model
        body["model_config_id"] = message.model_config_id
    return body


def queued_json(chat_id: str, queued: QueuedMessage) -> dict[str, Any]:
    """`codersdk.ChatQueuedMessage`: the queued text as one text part."""
    return {
        "id": queued.id,
        "chat_id": chat_id,
        "content": [text_part(queued.text)],
        "created_at": rfc3339(queued.at),
    }
