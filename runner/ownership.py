"""How a batch marks the tasks it owns.

Coder tasks carry no labels, so ownership is written into what a task does carry: its name ends
with `-<marker>`, where the marker is six hex digits of a hash of the batch name, and on GA
servers (v2.29+) its display name is `<batch>: <name>`. A task is owned only when every mark the
server can show agrees, so a hand-made `nightly-foo` beside batch `nightly`, or a task of batch
`nightly-2`, is never taken for one of `nightly`'s.
"""

from __future__ import annotations

import hashlib

#: The labels a batch's chat carries (Chats have no name): the batch, and the task's name.
BATCH_LABEL = "tasks/batch"
ITEM_LABEL = "tasks/item"
#: The label `tasks create --name` gives a chat, so `tasks status <name>` finds it.
NAME_LABEL = "tasks/name"

#: Coder's limit on task (workspace) names.
MAX_CODER_NAME_LENGTH = 32
MARKER_LENGTH = 6
#: The longest name a manifest may give a task: the marker and its hyphen take the rest.
MAX_TASK_NAME_LENGTH = MAX_CODER_NAME_LENGTH - MARKER_LENGTH - 1


def marker(batch: str) -> str:
    """The batch's marker: six lowercase hex digits, stable across runs and machines."""
    return hashlib.sha256(f"tasks-batch:{batch}".encode()).hexdigest()[:MARKER_LENGTH]


def coder_name(batch: str, name: str) -> str:
    """The name the task has on the deployment: the manifest's name plus the batch marker."""
    return f"{name}-{marker(batch)}"


def display_name(batch: str, name: str) -> str:
    """The display name a GA server shows: the batch, then the manifest's name."""
    return f"{batch}: {name}"


def base_name(batch: str, task_name: str) -> str | None:
    """The manifest name inside `task_name` when it carries this batch's marker, else None."""
    suffix = f"-{marker(batch)}"
    if len(task_name) > len(suffix) and task_name.lower().endswith(suffix):
        return task_name[: -len(suffix)]
    return None


def owns(batch: str, task_name: str, task_display_name: str | None) -> bool:
    """True when a task with this name (and, on GA, display name) belongs to `batch`.

    `task_display_name` is None on servers that have no display names (v2.28).
    """
    name = base_name(batch, task_name)
    if name is None:
        return False
    if task_display_name is None:
        return True
    return task_display_name == display_name(batch, name)


def chat_labels(batch: str, name: str) -> dict[str, str]:
    """The labels naming a batch's chat: what `<batch>/<name>` looks up."""
    return {BATCH_LABEL: batch, ITEM_LABEL: name}
