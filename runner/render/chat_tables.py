"""Chats (Coder Agents) for people: the chat table and the conversation, one line per item.

Coder has no chats CLI, so these formats are this tool's own (Coder's task CLI output is kept
byte for byte on servers that serve Tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from runner.coder.chat_model_configs import ChatModelConfig
from runner.coder.chat_models import Chat, ChatMessage
from runner.render.json_output import named_fields
from runner.render.safe_text import safe_line
from runner.render.table import render_table
from runner.render.times import ago

CHAT_COLUMNS = ("id", "title", "status", "updated", "pull request")
#: Marks a sub-agent's row and its part of a conversation.
SUB_AGENT_MARK = "↳ "


def _pull_request(chat: Chat) -> str:
    diff = chat.diff_status
    if diff is None or not diff.url:
        return ""
    return f"{diff.url} ({diff.state})" if diff.state else diff.url


def _status(chat: Chat) -> str:
    if chat.status == "error" and chat.last_error is not None:
        return f"error: {' '.join(chat.last_error.message.split())}"
    if chat.queued_for_capacity:  # only a single-chat read says so (CHATS-CONTRACT 7.4)
        return f"{chat.status} (queued for capacity)"
    return chat.status


def chat_table(chats: Sequence[Chat], now: datetime, *, sub_agents: bool = False) -> str:
    """Chats under ID, TITLE, STATUS, UPDATED and PULL REQUEST; with `sub_agents`, each
    chat's sub-agents in rows below it, their titles marked `↳`."""
    rows = [
        [
            chat.id,
            mark + " ".join(chat.title.split()),
            _status(chat),
            ago(chat.updated_at, now) if chat.updated_at else "",
            _pull_request(chat),
        ]
        for root in chats
        for chat, mark in ((root, ""), *((c, SUB_AGENT_MARK) for c in _children(root, sub_agents)))
    ]
    # This tool's own table, not Coder's: no trailing padding to keep parity with.
    return render_table(CHAT_COLUMNS, rows, trailing_padding=False)


def _children(chat: Chat, shown: bool) -> tuple[Chat, ...]:
    return chat.children if shown else ()


def sub_agent_heading(chat: Chat) -> str:
    """The line above a sub-agent's part of its root's conversation."""
    title = " ".join(chat.title.split())
    return safe_line(f"{SUB_AGENT_MARK}sub-agent {chat.id} ({title}, {_status(chat)}):")


def conversation(messages: Sequence[ChatMessage]) -> list[str]:
    """`role: text` for user and assistant text, `role: tool_name(args)` per tool call."""
    lines: list[str] = []
    for message in messages:
        if message.role not in ("user", "assistant"):
            continue
        for part in message.parts:
            if part.type in ("text", "tool-call"):
                line = part.one_line()
                if line:
                    # The agent's words and tool arguments: shown, never obeyed.
                    lines.append(safe_line(f"{message.role}: {line}"))
    return lines


MODEL_COLUMNS = ("id", "name", "display name", "provider", "default", "enabled")


def model_table(configs: Sequence[ChatModelConfig]) -> str:
    """Model configs under ID, NAME, DISPLAY NAME, PROVIDER, DEFAULT and ENABLED."""
    rows = [
        [
            config.id,
            config.model,
            config.display_name,
            config.provider,
            "yes" if config.is_default else "",
            "yes" if config.enabled else "no",
        ]
        for config in configs
    ]
    return render_table(MODEL_COLUMNS, rows, trailing_padding=False)


def model_document(config: ChatModelConfig) -> dict[str, object]:
    """One config for `-o json`, the same keys on every release."""
    return named_fields(config, "id", "model", "display_name", "provider", "is_default", "enabled")
