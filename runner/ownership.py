"""How a batch marks the tasks it owns.

Coder tasks carry no labels, so ownership is written into what a task does carry: its name ends
with `-<marker>`, where the marker is six hex digits of a hash of the batch name, and on GA
servers (v2.29+) its display name is `<batch>: <name>`. A task is owned only when every mark the
server can show agrees, so a hand-made `nightly-foo` beside batch `nightly`, or a task of batch
`nightly-2`, is never taken for one of `nightly`'s.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Protocol, TypeVar

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


#: Whose mark the workspace `tasks create --template` pins for a chat carries: no batch can have
#: it (a batch name has no space), so no batch takes that workspace for one of its own.
CREATE_SCOPE = "tasks create"


def create_workspace_name(name: str) -> str:
    """The workspace `tasks create --template --name <name>` pins for its chat."""
    return coder_name(CREATE_SCOPE, name)


def display_name(batch: str, name: str, attempt: int = 1) -> str:
    """The display name a GA server shows: the batch, then the manifest's name; a task created
    again by a retry adds its attempt (` #2`), which a re-run reads back (Coder keeps
    `display_name` as given, CONTRACT 1.3), so no attempt is made twice. Short, so the longest
    batch (32) and name (25) stay within Coder's 64 characters."""
    base = f"{batch}: {name}"
    return base if attempt <= 1 else f"{base} #{attempt}"


def attempt_of(batch: str, name: str, task_display_name: str | None) -> int:
    """The attempt a task's display name carries (1 without a mark, or without display names)."""
    if task_display_name is None:
        return 1
    match = _ATTEMPT.fullmatch(task_display_name[len(display_name(batch, name)) :])
    if not task_display_name.startswith(display_name(batch, name)) or match is None:
        return 1
    return int(match.group(1) or 1)


_ATTEMPT = re.compile(r"(?: #([2-9]|[1-9][0-9]+))?")


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
    base = display_name(batch, name)
    return task_display_name.startswith(base) and (
        _ATTEMPT.fullmatch(task_display_name[len(base) :]) is not None
    )


def chat_labels(batch: str, name: str) -> dict[str, str]:
    """The labels naming a batch's chat: what `<batch>/<name>` looks up."""
    return {BATCH_LABEL: batch, ITEM_LABEL: name}


class _Dated(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime | None: ...


DatedT = TypeVar("DatedT", bound=_Dated)
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def survival_order(item: _Dated) -> tuple[datetime, str]:
    """Where two items hold one name (two applies raced to create a chat), the first in
    this order is kept: the oldest by creation time, then the smallest id."""
    return (item.created_at or _NEVER, item.id)


class _Named(_Dated, Protocol):
    @property
    def owner_name(self) -> str: ...

    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


def name_key(owner: str, name: str) -> str:
    """How items are matched by name: lower-cased `owner/name`."""
    return f"{owner}/{name}".lower()


def by_name(items: Iterable[NamedT]) -> dict[str, NamedT]:
    """`items` by `name_key`; where two share one (applies raced on Chats), the survivor, so
    every run of every apply follows the same one."""
    found: dict[str, NamedT] = {}
    for item in items:
        key = name_key(item.owner_name, item.name)
        found[key] = survivor((found.get(key, item), item))
    return found


def survivor(items: Iterable[DatedT]) -> DatedT:
    """The one of several items of one name a batch keeps. Every run of every apply picks the
    same one from the same items, so they converge on it."""
    return min(items, key=survival_order)
