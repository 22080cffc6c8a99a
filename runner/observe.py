"""Observation: what the deployment holds that a batch cares about, in as few requests as possible.

One list request per owner the batch names (or a single list of every visible task when pruning
or destroying, since an owner dropped from the manifest may still hold tasks to prune), plus the
logs of those existing tasks that have follow-ups to check. Nothing here decides anything; the
planner does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from runner import defaults
from runner.errors import ApiError, DeliveryUnverifiedError, TransportError
from runner.item import Account, Item
from runner.manifest.model import Batch, DesiredTask
from runner.observation import Observation, ObservedTask, resolve_owner_name

if TYPE_CHECKING:
    from runner.backends import Backend


def observe(
    backend: Backend,
    batch: Batch,
    *,
    owners: Mapping[str, Account] | None = None,
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
    server = backend.deployment
    me = backend.me()
    resolved = dict(owners or {})
    resolved.setdefault("me", me)
    listed: list[Item] = []
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
        tasks=tuple(ObservedTask(t) for t in _unique(listed)),
        server_version=server.version,
        dashboard_url=server.dashboard_url,
        all_visible=all_visible,
        finished=tuple(ObservedTask(t) for t in finished),
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
        inputs = backend.delivered_inputs(observed.task).inputs
    except (ApiError, TransportError) as error:
        return replace(observed, inputs=None, logs_error=f"logs unreadable: {error.message}")
    except DeliveryUnverifiedError as error:
        return replace(observed, inputs=None, logs_error=error.message)
    return replace(observed, inputs=inputs)


def _tasks_needing_logs(
    desired: Sequence[DesiredTask], observation: Observation, owners: Mapping[str, Account]
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
    owners: Mapping[str, Account],
) -> frozenset[str]:
    """The ids of the batch's items whose `after:` is not done yet (asked of the backend only
    when a task has one)."""
    pairs: list[tuple[Item, str]] = []
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


def _unique(tasks: Iterable[Item]) -> list[Item]:
    seen: set[str] = set()
    out: list[Item] = []
    for task in tasks:
        if task.id not in seen:
            seen.add(task.id)
            out.append(task)
    return out
