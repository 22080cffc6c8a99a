"""The workspace a batch pins for a chat: when it may be deleted with the chat.

Archiving a chat leaves its workspace running (CHATS-CONTRACT 1.9), so whoever retires a batch's
chat (`apply`, `destroy`, `tasks delete`) releases its pinned workspace here, by one rule; so does
`tasks delete` for the workspace `tasks create --template` pinned.
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


def made_by_create(workspace_name: str) -> bool:
    """Whether `tasks create --template` made the workspace named `workspace_name` for a chat: its
    name carries that command's mark, which no batch's can (`ownership.CREATE_SCOPE`)."""
    return ownership.base_name(ownership.CREATE_SCOPE, workspace_name) is not None


def release_workspace(chats: ChatsClient, chat: Chat) -> bool:
    """Delete the workspace `chat` is bound to when it was made for the chat (a batch's, whose
    name carries the batch's marker, or `tasks create --template`'s) and no other live chat
    that may share it is bound to it (a duplicate's survivor shares a batch item's). Whether a
    delete build was started."""
    if not chat.workspace_id:
        return False
    batch = chat.labels.get(ownership.BATCH_LABEL, "")
    item = chat.labels.get(ownership.ITEM_LABEL, "")
    by_batch = bool(batch and item)
    try:
        workspace = chats.get_workspace(chat.workspace_id)
    except ApiError:
        return False  # gone already, or not the user's to delete
    if workspace.transition == "delete":
        return False
    if by_batch and made_for(chat.labels, workspace.name):
        sharing = chats.list_chats(
            labels={ownership.BATCH_LABEL: batch, ownership.ITEM_LABEL: item}
        )
    elif not by_batch and made_by_create(workspace.name):
        sharing = chats.list_chats()  # the user's live chats: `--workspace` may bind it again
    else:
        return False
    if any(c.id != chat.id and c.workspace_id == chat.workspace_id for c in sharing):
        return False
    chats.delete_workspace(workspace.id)
    return True
