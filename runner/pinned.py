"""The workspace a batch pins for a chat: when it may be deleted with the chat.

Archiving a chat leaves its workspace running (CHATS-CONTRACT 1.9), so whoever retires a batch's
chat (`apply`, `destroy`, `tasks delete`) releases its pinned workspace here, by one rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner import ownership
from runner.errors import ApiError

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient


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
    ours = workspace.name.lower() == ownership.coder_name(batch, item).lower()
    if not ours or workspace.transition == "delete":
        return False
    labels = {ownership.BATCH_LABEL: batch, ownership.ITEM_LABEL: item}
    others = chats.list_chats(labels=labels)
    if any(c.id != chat.id and c.workspace_id == chat.workspace_id for c in others):
        return False
    chats.delete_workspace(workspace.id)
    return True
