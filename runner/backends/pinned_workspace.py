"""The workspace that pins a chat's template version and preset (CHATS-CONTRACT 3 and 6).

A chat has no template: to pin one, a workspace of the template version (and preset) is created
first and the chat is bound to it. `apply` does it for a batch's chat and `tasks create
--template` for one chat, both here, by one rule: create first, and only when Coder refuses the
name as taken (409), or the answer was lost, look the workspace up by name and adopt it, if it is
the one wanted. So a workspace costs one request, and a lost create never makes two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.coder.chat_models import PinnedWorkspace
from runner.errors import ConflictError, ServerError, TasksError, UncertainOutcomeError

if TYPE_CHECKING:
    from runner.backends.conflicts import NameConflicts
    from runner.coder.chats import ChatsClient


@dataclass(frozen=True)
class WantedWorkspace:
    """The pinned workspace one chat needs: its name, its owner's username, what it is made of."""

    name: str
    owner: str
    version_id: str
    preset_id: str | None = None


def pin_workspace(
    chats: ChatsClient, wanted: WantedWorkspace, conflicts: NameConflicts
) -> PinnedWorkspace:
    """The wanted workspace: new, else the one an earlier (lost or half-done) create made."""
    try:
        return chats.create_workspace(
            wanted.name, wanted.version_id, owner=wanted.owner, preset_id=wanted.preset_id
        )
    except ConflictError as refused:
        found = conflicts.holder(
            refused,
            wanted.owner,
            wanted.name,
            lambda: chats.workspace_by_owner_and_name(wanted.owner, wanted.name),
        )
        return _judged(PinnedWorkspace.from_json(found), wanted)
    except (UncertainOutcomeError, ServerError):
        adopted = chats.workspace_by_name(wanted.owner, wanted.name)
        if adopted is None:
            raise
        return _judged(adopted, wanted)


def _judged(found: PinnedWorkspace, wanted: WantedWorkspace) -> PinnedWorkspace:
    """`found`, when it is the pinned workspace as wanted."""
    name = found.name
    if found.transition == "delete":
        # The workspace of a replaced chat, still being deleted: its name frees up soon.
        raise ConflictError(409, f"workspace {name!r} is still being deleted")
    if found.template_version_id != wanted.version_id or (
        wanted.preset_id and found.preset_id != wanted.preset_id
    ):
        raise TasksError(
            f"workspace {name!r} exists with another template version or preset; "
            "delete it (or choose another name) and try again"
        )
    return found
