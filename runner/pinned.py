"""The workspace a batch pins for a chat: when it may be deleted with the chat.

Archiving a chat leaves its workspace running (CHATS-CONTRACT 1.9), so whoever retires a batch's
chat (`apply`, `destroy`, `tasks delete`) releases its pinned workspace here, by one rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from runner import ownership
from runner.errors import ApiError

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient


def made_for(labels: Mapping[str, str], workspace_name: str) -> bool:
    """Whether a workspace named `workspace_name` is the one the batch made for the chat with
    `labels`: its name is the item's with the batch's marker. Any other (the agent's own, or a
    person's) is never stopped or deleted."""
    batch = labels.get(ownership.BATCH_LABEL, "")
    item = labels.get(ownership.ITEM_LABEL, "")
    if not (batch and item):
        return False
    return workspace_name.lower() == ownership.coder_name(batch, item).lower()


def release_workspace(chats: ChatsClient, chat: Chat) -> bool:
    """Delete the workspace `chat` is bound to when the batch made it for the chat's item (its
    name carries the batch's marker) and no other live chat of the item is bound to it (a
    duplicate's survivor shares it). Whether a delete build was started."""
    batch = chat.labels.get(ownership.BATCH_LABEL, "")
    item = chat.labels.get(ownership.ITEM_LABEL, "")
    if not (chat.workspace_id and batch and item):
        return False
    try:
        workspace = chats.get_workspace(chat.workspace_id)
    except ApiError:
        return False  # gone already, or not the user's to delete
    if not made_for(chat.labels, workspace.name) or workspace.transition == "delete":
        return False
    labels = {ownership.BATCH_LABEL: batch, ownership.ITEM_LABEL: item}
    others = chats.list_chats(labels=labels)
    if any(c.id != chat.id and c.workspace_id == chat.workspace_id for c in others):
        return False
    chats.delete_workspace(workspace.id)
    return True
