"""Observation: what the deployment holds that a batch cares about, in as few requests as possible.

One list request per owner the batch names (or a single list of every visible task when pruning
or destroying, since an owner dropped from the manifest may still hold tasks to prune), plus the
logs of those existing tasks that have follow-ups to check. Nothing here decides anything; the
planner does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from runner import defaults, ownership
from runner.coder.models import Task, User
from runner.errors import ApiError, DeliveryUnverifiedError, TransportError
from runner.manifest.model import Batch, DesiredTask

if TYPE_CHECKING:
    from runner.backends import Backend


@dataclass(frozen=True)
class ObservedTask:
    """An existing task, with its `input` log entries when they were read (None: not readable).

    `mark` is what ownership reads beside the name (the display name where the server has
    them, else None), as the backend reports it.
    """

    task: Task
    inputs: tuple[str, ...] | None = None
    logs_error: str = ""
    mark: str | None = None

    def owned(self, batch: str) -> bool:
        """Whether this task carries `batch`'s ownership marks."""
        return ownership.owns(batch, self.task.name, self.mark)


@dataclass(frozen=True)
class Observation:
    """Everything the planner needs to know about the deployment, read at one moment."""

    me: User
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
                    task.template_version_id,
                    task.initial_prompt,
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


def resolve_owner_name(owner: str, me: User, users: Mapping[str, User]) -> str:
    """The username a desired task's `owner` stands for (`me`, a username or a UUID)."""
    if owner == "me":
        return me.username
    user = users.get(owner)
    return user.username if user else owner


def observe(
    backend: Backend,
    batch: Batch,
    *,
    owners: Mapping[str, User] | None = None,
    all_visible: bool = False,
    read_logs: bool = True,
    parallelism: int = defaults.PARALLELISM,
) -> Observation:
    """Read the tasks relevant to `batch`: one list per owner, or one list of every task.

    `owners` maps each desired owner value to its resolved user (from preflight); `me` is
    resolved here when absent. Logs are read only for existing tasks that have follow-ups;
    a task whose logs cannot be read is recorded as such (nothing is sent blindly later).
    Logs are read `parallelism` at a time.
    """
    server = backend.server
    me = backend.me()
    resolved = dict(owners or {})
    resolved.setdefault("me", me)
    listed: list[Task] = []
    if all_visible:
        listed = backend.list_items(None, batch.name)
        # Pruning or destroying: what the batch made for items it no longer wants goes too.
        wanted = {t.coder_name.lower() for t in batch.tasks}
        listed += [t for t in backend.leftovers(batch.name) if t.name.lower() not in wanted]
    else:
        names = sorted({resolve_owner_name(t.owner, me, resolved) for t in batch.tasks})
        for name in names:
            listed.extend(backend.list_items(name, batch.name))
    # Archived chats count as done only for a task that asks `after: remove`: any other task
    # whose chat was archived (deleted by hand, or destroyed) is created again.
    removes = any(t.after == "remove" for t in batch.tasks)
    finished = backend.finished_items(batch.name) if removes else []
    base = Observation(
        me=me,
        tasks=tuple(ObservedTask(t, mark=backend.ownership_mark(t)) for t in _unique(listed)),
        server_version=server.version,
        dashboard_url=server.dashboard_url,
        all_visible=all_visible,
        finished=tuple(ObservedTask(t, mark=backend.ownership_mark(t)) for t in finished),
    )
    base = replace(base, to_clean=_clean_up_pending(backend, batch.tasks, base, resolved))
    if not read_logs:
        return base
    wanted = _tasks_needing_logs(batch.tasks, base, resolved)
    targets = [o for o in base.tasks if o.task.id in wanted]
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    try:
        results = list(pool.map(lambda item: read_inputs(backend, item), targets))
    finally:
        # Stopped (Ctrl-C, SIGTERM), the reads not yet begun are dropped, not waited for.
        pool.shutdown(wait=False, cancel_futures=True)
    read = {item.task.id: result for item, result in zip(targets, results, strict=True)}
    observed = [read.get(item.task.id, item) for item in base.tasks]
    return replace(base, tasks=tuple(observed))


def read_inputs(backend: Backend, observed: ObservedTask) -> ObservedTask:
    """`observed` with its delivered inputs, or with the reason they cannot vouch for delivery."""
    try:
        inputs = backend.delivered_inputs(observed.task)
    except (ApiError, TransportError) as error:
        return replace(observed, inputs=None, logs_error=f"logs unreadable: {error.message}")
    except DeliveryUnverifiedError as error:
        return replace(observed, inputs=None, logs_error=error.message)
    return replace(observed, inputs=inputs)


def _tasks_needing_logs(
    desired: Sequence[DesiredTask], observation: Observation, owners: Mapping[str, User]
) -> set[str]:
    ids: set[str] = set()
    for want in desired:
        if not want.follow_ups:
            continue
        owner = resolve_owner_name(want.owner, observation.me, owners)
        found = observation.find(owner, want.coder_name)
        if found is not None:
            ids.add(found.task.id)
    return ids


def _clean_up_pending(
    backend: Backend,
    desired: Sequence[DesiredTask],
    observation: Observation,
    owners: Mapping[str, User],
) -> frozenset[str]:
    """The ids of the batch's items whose `after:` is not done yet (asked of the backend only
    when a task has one)."""
    pairs: list[tuple[Task, str]] = []
    for want in desired:
        if want.after == "keep":
            continue
        owner = resolve_owner_name(want.owner, observation.me, owners)
        found = observation.find(owner, want.coder_name) or observation.find_finished(
            owner, want.coder_name
        )
        if found is not None and found.owned(want.batch):
            pairs.append((found.task, want.after))
    return frozenset(backend.clean_up_pending(pairs)) if pairs else frozenset()


def _unique(tasks: Iterable[Task]) -> list[Task]:
    seen: set[str] = set()
    out: list[Task] = []
    for task in tasks:
        if task.id not in seen:
            seen.add(task.id)
            out.append(task)
    return out
