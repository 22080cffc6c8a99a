"""Typed views of Coder Agents objects (CHATS-CONTRACT section 1): chats, messages, prompts.

Like `runner.coder.models`, each model keeps the JSON it came from (`raw`) so `-o json` prints
exactly what the server sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runner.coder.chat_server import ChatServerInfo
from runner.coder.models import KeyedRecord, _int, _str, parse_time

#: Statuses after which the agent does no more work until it gets a new message.
IDLE_STATUSES = ("waiting", "error", "requires_action")
#: Statuses in which the agent is (or is about to be) working. Any status not named in these
#: lists (a newer Coder's, e.g. the `paused` of PR #29215) counts as busy (CHATS-CONTRACT 7.2).
BUSY_STATUSES = ("pending", "running", "interrupting")
#: The only statuses Coder archives from; any other is interrupted first (CHATS-CONTRACT 7.2,
#: `chatstate/transitions.go`: archive is allowed from `waiting` and `error` only).
ARCHIVABLE_STATUSES = ("waiting", "error")


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ChatError:
    """`last_error`: a `ChatError` object from v2.34, a plain string on v2.32 and v2.33."""

    message: str
    kind: str = ""
    detail: str = ""
    retryable: bool = False

    @classmethod
    def from_json(cls, value: Any) -> ChatError | None:
        """Either wire shape; None when there is no error."""
        if isinstance(value, str):
            return cls(message=value) if value else None
        if isinstance(value, Mapping):
            return cls(
                message=_str(value, "message"),
                kind=_str(value, "kind"),
                detail=_str(value, "detail"),
                retryable=value.get("retryable") is True,
            )
        return None


@dataclass(frozen=True)
class DiffStatus:
    """`diff_status`: the pull request Coder tracks for a chat."""

    url: str | None
    state: str | None
    title: str
    number: int | None
    additions: int
    deletions: int
    changed_files: int
    head_branch: str | None
    base_branch: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DiffStatus:
        number = data.get("pr_number")
        return cls(
            url=_opt_str(data, "url"),
            state=_opt_str(data, "pull_request_state"),
            title=_str(data, "pull_request_title"),
            number=number if isinstance(number, int) else None,
            additions=_int(data, "additions"),
            deletions=_int(data, "deletions"),
            changed_files=_int(data, "changed_files"),
            head_branch=_opt_str(data, "head_branch"),
            base_branch=_opt_str(data, "base_branch"),
        )


@dataclass(frozen=True)
class Chat:
    """A Coder Agents chat (`codersdk.Chat`) from any server generation."""

    id: str
    organization_id: str | None
    owner_id: str
    owner_username: str
    workspace_id: str | None
    parent_chat_id: str | None
    title: str
    status: str
    last_error: ChatError | None
    diff_status: DiffStatus | None
    archived: bool
    labels: Mapping[str, str]
    created_at: datetime | None
    updated_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    #: The model of the chat's last turn (CHATS-CONTRACT 7.3).
    last_model_config_id: str = ""
    #: `last_turn_summary`: Coder's label of the last finished turn ("" while there is none: a
    #: turn running, ended in error, or not yet labelled); None from a release without the
    #: field (v2.32 and v2.33: CHATS-CONTRACT 1.2), where it is not read at all.
    turn_summary: str | None = None
    #: Running but not worked on: waiting for a concurrent-agent slot. Only a single-chat read
    #: of a v2.37+ server says so (`omitempty`); a list row never does (CHATS-CONTRACT 7.4).
    queued_for_capacity: bool = False
    #: Sub-agent chats under a root chat (`children`, v2.33+; CHATS-CONTRACT 1.2, 1.6).
    children: tuple[Chat, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any], server: ChatServerInfo | None = None) -> Chat:
        """Reads only the fields `server`'s release declares (v2.32 has no organization);
        without a server, every field."""
        labels = data.get("labels")
        diff = data.get("diff_status")
        return cls(
            id=_str(data, "id"),
            organization_id=_opt_str(data, "organization_id")
            if server is None or server.organization_scoped
            else None,
            owner_id=_str(data, "owner_id"),
            owner_username=_str(data, "owner_username")
            if server is None or server.owner_names
            else "",
            workspace_id=_opt_str(data, "workspace_id"),
            parent_chat_id=_opt_str(data, "parent_chat_id"),
            title=_str(data, "title"),
            status=_str(data, "status"),
            last_error=ChatError.from_json(data.get("last_error")),
            diff_status=DiffStatus.from_json(diff) if isinstance(diff, Mapping) else None,
            archived=data.get("archived") is True,
            labels={str(k): v for k, v in (labels or {}).items() if isinstance(v, str)}
            if isinstance(labels, Mapping)
            else {},
            created_at=parse_time(_opt_str(data, "created_at")),
            updated_at=parse_time(_opt_str(data, "updated_at")),
            raw=data,
            last_model_config_id=_str(data, "last_model_config_id"),
            turn_summary=_summary(data) if server is None or server.owner_names else None,
            queued_for_capacity=(server is None or server.capacity_limits)
            and data.get("queued_for_capacity") is True,
            children=_children(data, server),
        )

    @property
    def idle(self) -> bool:
        """The agent is not working: `waiting`, `error` or `requires_action`."""
        return self.status in IDLE_STATUSES

    @property
    def busy_children(self) -> tuple[Chat, ...]:
        """Sub-agents still working (any status but an idle one)."""
        return tuple(child for child in self.children if not child.idle)


def _children(data: Mapping[str, Any], server: ChatServerInfo | None) -> tuple[Chat, ...]:
    if server is not None and not server.organization_scoped:
        return ()  # v2.32 has no `children`: its list shows sub-agents as rows (7.5)
    rows = data.get("children")
    if not isinstance(rows, list):
        return ()
    return tuple(Chat.from_json(c, server) for c in rows if isinstance(c, Mapping))


def _summary(data: Mapping[str, Any]) -> str | None:
    if "last_turn_summary" not in data:
        return None
    value = data.get("last_turn_summary")
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class MessagePart:
    """One `ChatMessagePart`: text, reasoning, a tool call or its result, and others."""

    type: str
    text: str
    tool_name: str
    args: Any
    result: Any
    is_error: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessagePart:
        return cls(
            type=_str(data, "type"),
            text=_str(data, "text"),
            tool_name=_str(data, "tool_name"),
            args=data.get("args"),
            result=data.get("result"),
            is_error=data.get("is_error") is True,
        )

    def one_line(self) -> str:
        """The part on one line: its text, or `tool(args)` for a tool call."""
        if self.type == "tool-call":
            args = json.dumps(self.args, separators=(",", ":")) if self.args is not None else ""
            return f"{self.tool_name}({args})"
        return " ".join(self.text.split())


@dataclass(frozen=True)
class ChatMessage:
    """A `ChatMessage`: a user, assistant, tool or system turn with its parts."""

    id: int
    role: str
    parts: tuple[MessagePart, ...]
    created_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, queued: bool = False) -> ChatMessage:
        content = data.get("content")
        parts = content if isinstance(content, list) else []
        return cls(
            id=_int(data, "id"),
            # A queued message (`codersdk.ChatQueuedMessage`) has no role: it is a user's input.
            role="user" if queued else _str(data, "role"),
            parts=tuple(MessagePart.from_json(p) for p in parts if isinstance(p, Mapping)),
            created_at=parse_time(_opt_str(data, "created_at")),
            raw=data,
        )

    @property
    def text(self) -> str:
        """The text parts, joined."""
        return "".join(p.text for p in self.parts if p.type == "text")


@dataclass(frozen=True)
class MessagesPage:
    """One page of `GET …/messages`."""

    messages: tuple[ChatMessage, ...]
    queued: tuple[ChatMessage, ...]
    has_more: bool


@dataclass(frozen=True)
class Prompt:
    """A user prompt of a chat (`GET …/prompts`)."""

    id: int
    text: str


@dataclass(frozen=True)
class ChatCost(KeyedRecord):
    """`GET {P}/{chat}/cost` (v2.36+, CHATS-CONTRACT 7.4): the AI Gateway's records of a chat
    and its sub-agents."""

    total_cost_micros: int
    request_count: int
    unpriced_request_count: int


@dataclass(frozen=True)
class SendResult:
    """`CreateChatMessageResponse`: inserted at once (`message_id`) or queued (`queued_id`)."""

    queued: bool
    message_id: int | None
    queued_id: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendResult:
        message = data.get("message")
        queued = data.get("queued_message")
        return cls(
            queued=data.get("queued") is True,
            message_id=_int(message, "id") if isinstance(message, Mapping) else None,
            queued_id=_int(queued, "id") if isinstance(queued, Mapping) else None,
        )


@dataclass(frozen=True)
class PinnedWorkspace:
    """A workspace created to pin a chat's template version and preset (`codersdk.Workspace`)."""

    id: str
    name: str
    owner_id: str
    template_id: str
    template_version_id: str
    preset_id: str | None
    transition: str
    status: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PinnedWorkspace:
        build = data.get("latest_build")
        latest: Mapping[str, Any] = build if isinstance(build, Mapping) else {}
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name"),
            owner_id=_str(data, "owner_id"),
            template_id=_str(data, "template_id"),
            template_version_id=_str(latest, "template_version_id"),
            preset_id=_opt_str(latest, "template_version_preset_id"),
            transition=_str(latest, "transition"),
            status=_str(latest, "status"),
            raw=data,
        )
