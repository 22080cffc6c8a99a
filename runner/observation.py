"""What a batch observed on the deployment, as the planner reads it: its items (with their
delivered inputs, where read), who the token is, and what clean-up is still to do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from runner import ownership
from runner.item import Account, Item


@dataclass(frozen=True)
class ObservedTask:
    """An existing item, with its delivered inputs when they were read (None: not readable)."""

    task: Item
    inputs: tuple[str, ...] | None = None
    logs_error: str = ""

    def owned(self, batch: str) -> bool:
        """Whether this task carries `batch`'s ownership marks."""
        return ownership.owns(batch, self.task.name, self.task.display_name)


@dataclass(frozen=True)
class Observation:
    """Everything the planner needs to know about the deployment, read at one moment."""

    me: Account
    tasks: tuple[ObservedTask, ...]
    server_version: str = ""
    dashboard_url: str = ""
    all_visible: bool = False  # listed with owner=None: every task the token can see
    #: The batch's items that clean-up set aside and that count as done (archived chats), read
    #: only when a task of the batch asks `after: remove`.
    finished: tuple[ObservedTask, ...] = ()
    #: Ids of the observed items (live or finished) whose `after:` is still to do.
    to_clean: frozenset[str] = frozenset()

    def find(self, owner: str, coder_name: str) -> ObservedTask | None:
        """The task named `coder_name` (case-insensitively, as Coder compares) of `owner`.

        `owner` is a username or a user UUID.
        """
        return self._index.get((owner.lower(), coder_name.lower()))

    @cached_property
    def _index(self) -> dict[tuple[str, str], ObservedTask]:
        # Built once, so planning thousands of tasks stays linear.
        return _by_owner_and_name(self.tasks)

    def find_finished(self, owner: str, coder_name: str) -> ObservedTask | None:
        """The oldest finished item named `coder_name` of `owner` (see `find`)."""
        return self._finished_index.get((owner.lower(), coder_name.lower()))

    @cached_property
    def _finished_index(self) -> dict[tuple[str, str], ObservedTask]:
        return _by_owner_and_name(self.finished)

    def duplicates(self, batch: str) -> list[ObservedTask]:
        """`batch`'s tasks that share a name with an older one of the batch (`find` gives
        the older): left by applies that raced to create the same chat."""
        return [
            o
            for o in self.owned_by(batch)
            if (kept := self.find(o.task.owner_name, o.task.name)) is not None
            and kept.task.id != o.task.id
            and kept.owned(batch)
        ]

    def owned_by(self, batch: str) -> list[ObservedTask]:
        """Tasks carrying `batch`'s ownership marks."""
        return [o for o in self.tasks if o.owned(batch)]

    def fingerprint(self, batch: str, coder_names: Iterable[str]) -> str:
        """A digest of the observed facts a plan of `batch` depends on.

        Covers every task the batch owns or whose name the batch wants: its id, owner, name,
        display name, template version, prompt and (when read) its inputs. Status changes
        (working, idle) do not change it; a created, deleted or re-prompted task does.
        """
        wanted = {n.lower() for n in coder_names}
        facts = []
        for observed in (*self.tasks, *self.finished):
            task = observed.task
            if task.name.lower() not in wanted and not observed.owned(batch):
                continue
            facts.append(
                [
                    task.id,
                    task.owner_name,
                    task.name,
                    task.display_name or "",
                    task.template_version_id or "",
                    task.initial_prompt or "",
                    list(observed.inputs) if observed.inputs is not None else None,
                ]
            )
        facts.sort(key=lambda f: str(f[0]))
        digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
        return f"sha256:{digest}"


def _by_owner_and_name(
    items: Iterable[ObservedTask],
) -> dict[tuple[str, str], ObservedTask]:
    """`items` by (owner name or id, item name), lower-cased. Oldest first: where two share a
    name (applies raced on Chats), the survivor is found."""
    index: dict[tuple[str, str], ObservedTask] = {}
    for observed in sorted(items, key=lambda o: ownership.survival_order(o.task)):
        task = observed.task
        name = task.name.lower()
        index.setdefault((task.owner_name.lower(), name), observed)
        index.setdefault((task.owner_id.lower(), name), observed)
    return index


def resolve_owner_name(owner: str, me: Account, users: Mapping[str, Account]) -> str:
    """The username a desired task's `owner` stands for (`me`, a username or a UUID)."""
    if owner == "me":
        return me.username
    user = users.get(owner)
    return user.username if user else owner
