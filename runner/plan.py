"""The planner: a pure function from (desired batch, observation, options) to a Plan.

No HTTP here. The plan is an immutable value sorted deterministically: prune deletions first, then
replacements, creations, follow-up sends, drift and conflicts, and finally tasks with nothing to
do, each group by owner and name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from runner import ownership
from runner.errors import InvalidInputError
from runner.item import ResolvedTask, task_key
from runner.manifest.model import Batch, DesiredTask
from runner.observation import Observation, ObservedTask, resolve_owner_name


class ActionKind(str, Enum):
    """What the plan does with one task."""

    DELETE = "delete"  # owned, absent from the manifest, --prune given
    REPLACE = "replace"  # drifted and replacing: delete then create
    CREATE = "create"
    SEND = "send"  # exists; follow-ups still to deliver
    DRIFT = "drift"  # exists but differs; shown, not acted on
    CONFLICT = "conflict"  # the name is held by a task this batch does not own
    NOOP = "noop"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def changes(self) -> bool:
        """True for actions that change the deployment."""
        return self in (ActionKind.DELETE, ActionKind.REPLACE, ActionKind.CREATE, ActionKind.SEND)


_SYMBOLS = {
    ActionKind.DELETE: "-",
    ActionKind.REPLACE: "-/+",
    ActionKind.CREATE: "+",
    ActionKind.SEND: "~",
    ActionKind.DRIFT: "!",
    ActionKind.CONFLICT: "!",
    ActionKind.NOOP: " ",
}
_ORDER = list(ActionKind)


@dataclass(frozen=True)
class Action:
    """One entry of a plan."""

    kind: ActionKind
    name: str  # the manifest name (for prune: the name inside the marked task name)
    owner: str  # the owner's username
    coder_name: str
    desired: DesiredTask | None = None
    task_id: str | None = None  # the existing task acted on, when there is one
    follow_ups: tuple[str, ...] = ()  # follow-ups to send, in order
    delivered: int = 0  # follow-ups already present in the task's logs
    #: False: the logs could not vouch for delivery (unreadable, or a snapshot that may omit
    #: early inputs); the live logs are checked before each send.
    logs_verified: bool = True
    reasons: tuple[str, ...] = ()  # why a task drifted or conflicts
    #: The clean-up the task ends with once its outcome is final: "", "stop" or "remove".
    after: str = ""

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (_ORDER.index(self.kind), self.owner, self.name)


@dataclass(frozen=True)
class PlanOptions:
    """How to plan: --replace, --prune and --target."""

    replace: bool = False
    prune: bool = False
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """The ordered actions for one batch, and the fingerprint of what was observed."""

    batch: str
    actions: tuple[Action, ...]
    fingerprint: str = ""
    options: PlanOptions = field(default_factory=PlanOptions)
    #: `owner/name` of observed tasks the batch owns that the manifest no longer lists, kept
    #: because --prune was not given (only the owners the manifest names are observed then).
    unlisted: tuple[str, ...] = ()

    def count(self, *kinds: ActionKind) -> int:
        return sum(1 for a in self.actions if a.kind in kinds)

    @property
    def to_create(self) -> int:
        return self.count(ActionKind.CREATE, ActionKind.REPLACE)

    def creating(self) -> list[DesiredTask]:
        """The desired tasks the plan creates (replacing included)."""
        kinds = (ActionKind.CREATE, ActionKind.REPLACE)
        return [a.desired for a in self.actions if a.kind in kinds and a.desired is not None]

    @property
    def to_update(self) -> int:
        return self.count(ActionKind.SEND)

    @property
    def to_delete(self) -> int:
        return self.count(ActionKind.DELETE, ActionKind.REPLACE)

    @property
    def drifted(self) -> int:
        return self.count(ActionKind.DRIFT)

    @property
    def conflicts(self) -> int:
        return self.count(ActionKind.CONFLICT)

    @property
    def to_clean_up(self) -> int:
        """Tasks with nothing else to do whose `after:` is still to do."""
        return sum(1 for a in self.actions if a.after and not a.kind.changes)

    @property
    def has_changes(self) -> bool:
        return any(a.kind.changes or a.after for a in self.actions)

    def summary(self) -> str:
        """`Plan: 2 to create, 1 to update, 0 to delete, 1 drifted.` (plus conflicts and
        clean-ups if any)."""
        text = (
            f"Plan: {self.to_create} to create, {self.to_update} to update, "
            f"{self.to_delete} to delete, {self.drifted} drifted"
        )
        if self.conflicts:
            text += f", {self.conflicts} blocked"
        if self.to_clean_up:
            text += f", {self.to_clean_up} to clean up"
        return text + "."


def delivered_count(inputs: Sequence[str], prompt: str, follow_ups: Sequence[str]) -> int:
    """How many of `follow_ups` (a prefix, in order) already appear among `inputs`.

    The initial prompt is skipped when it is the first input. Matching is in order and skips
    inputs that are not follow-ups (a person may have sent something in between).
    """
    items = [text.strip() for text in inputs]
    start = 1 if items and items[0] == prompt.strip() else 0
    position = start
    count = 0
    for follow_up in follow_ups:
        wanted = follow_up.strip()
        try:
            found = items.index(wanted, position)
        except ValueError:
            break
        position = found + 1
        count += 1
    return count


def make_plan(
    batch: Batch,
    observation: Observation,
    options: PlanOptions = PlanOptions(),
    resolved: Mapping[str, ResolvedTask] | None = None,
    *,
    fingerprint: str = "",
) -> Plan:
    """Diff `batch` against `observation`.

    `resolved` (from preflight, keyed by `task_key`) supplies owners' usernames and pinned
    template versions; without it, owners are compared as written (`me` as the token's user)
    and pinned versions are not compared.
    """
    resolved = resolved or {}
    _check_targets(batch, observation, options)
    actions: list[Action] = []
    wanted_names: set[tuple[str, str]] = set()
    for desired in batch.tasks:
        owner = _owner_of(desired, observation, resolved)
        wanted_names.add((owner.lower(), desired.coder_name.lower()))
        if options.targets and desired.name not in options.targets:
            continue
        existing = observation.find(owner, desired.coder_name)
        found = resolved.get(task_key(desired))
        if existing is None and desired.after == "remove":
            action = _removed(desired, owner, observation, options, found)
        else:
            action = _plan_task(desired, owner, existing, observation, options, found)
        actions.append(replace(action, after=_clean_up(action, desired, observation)))
    actions += _duplicates(batch, observation, options, wanted_names)
    unlisted: list[str] = []
    for observed in observation.owned_by(batch.name):
        task = observed.task
        key = (task.owner_name.lower(), task.name.lower())
        if key in wanted_names:
            continue
        name = ownership.base_name(batch.name, task.name) or task.name
        if options.targets and name not in options.targets:
            continue
        if options.prune:
            actions.append(
                Action(ActionKind.DELETE, name, task.owner_name, task.name, task_id=task.id)
            )
        else:
            unlisted.append(f"{task.owner_name}/{task.name}")
    actions.sort(key=lambda a: a.sort_key)
    return Plan(batch.name, tuple(actions), fingerprint, options, tuple(sorted(unlisted)))


def _removed(
    desired: DesiredTask,
    owner: str,
    observation: Observation,
    options: PlanOptions,
    resolved: ResolvedTask | None,
) -> Action:
    """A task with `after: remove` and no live item: an archived one of the batch, made from
    the same spec, is the task done (nothing to do but finish its clean-up); without one, or
    with --replace, or where the spec changed, it is created again."""
    archived = observation.find_finished(owner, desired.coder_name)
    create = _action(ActionKind.CREATE, desired, owner, follow_ups=desired.follow_ups)
    if archived is None or not archived.owned(desired.batch):
        return create
    reasons = drift_reasons(desired, archived, resolved)
    if reasons or options.replace:
        why = f"differs: {'; '.join(reasons)}" if reasons else "--replace creates it again"
        return replace(create, reasons=(f"removed as {archived.task.id}, which {why}",))
    done = len(desired.follow_ups)  # an archived chat takes none: nothing is left to send
    return replace(
        create, kind=ActionKind.NOOP, task_id=archived.task.id, follow_ups=(), delivered=done
    )


def _clean_up(action: Action, desired: DesiredTask, observation: Observation) -> str:
    """The clean-up an action ends with: a task created, replaced or sent to gets its `after:`;
    one with nothing to change, only while its clean-up is not done; drifted or blocked, none
    (it is not the manifest's)."""
    if desired.after == "keep" or action.kind in (ActionKind.DRIFT, ActionKind.CONFLICT):
        return ""
    if action.kind is ActionKind.NOOP and action.task_id not in observation.to_clean:
        return ""
    return desired.after


def _duplicates(
    batch: Batch,
    observation: Observation,
    options: PlanOptions,
    wanted: set[tuple[str, str]],
) -> list[Action]:
    """A second item of a name the manifest wants (applies raced on Chats): removed, so the
    oldest (the one `find` gives, which every apply keeps) is the only one left."""
    actions = []
    for observed in observation.duplicates(batch.name):
        task = observed.task
        if (task.owner_name.lower(), task.name.lower()) not in wanted:
            continue  # not wanted at all: pruned (or listed as unlisted) with the rest
        name = ownership.base_name(batch.name, task.name) or task.name
        if options.targets and name not in options.targets:
            continue
        kept = observation.find(task.owner_name, task.name)
        why = f"{task.id} duplicates {kept.task.id if kept else 'another'}, which is kept"
        actions.append(
            Action(
                ActionKind.DELETE, name, task.owner_name, task.name, task_id=task.id, reasons=(why,)
            )
        )
    return actions


def _owner_of(
    desired: DesiredTask, observation: Observation, resolved: Mapping[str, ResolvedTask]
) -> str:
    found = resolved.get(task_key(desired))
    if found is not None:
        return found.owner.username
    return resolve_owner_name(desired.owner, observation.me, {})


def _check_targets(batch: Batch, observation: Observation, options: PlanOptions) -> None:
    if not options.targets:
        return
    known = {t.name for t in batch.tasks}
    if options.prune:
        known |= {
            ownership.base_name(batch.name, o.task.name) or ""
            for o in observation.owned_by(batch.name)
        }
    unknown = sorted(options.targets - known)
    if unknown:
        raise InvalidInputError(
            f"--target {', '.join(unknown)}: no such task in batch {batch.name!r}"
        )


def _plan_task(
    desired: DesiredTask,
    owner: str,
    existing: ObservedTask | None,
    observation: Observation,
    options: PlanOptions,
    resolved: ResolvedTask | None,
) -> Action:
    if existing is None:
        return _action(ActionKind.CREATE, desired, owner, follow_ups=desired.follow_ups)
    task = existing.task
    if not existing.owned(desired.batch):
        shown = task.display_name or task.name
        return _action(
            ActionKind.CONFLICT,
            desired,
            owner,
            task_id=task.id,
            reasons=(f"the name is held by a task this batch does not own ({shown!r})",),
        )
    reasons = drift_reasons(desired, existing, resolved)
    if reasons:
        replacing = options.replace or desired.on_drift == "replace"
        return _action(
            ActionKind.REPLACE if replacing else ActionKind.DRIFT,
            desired,
            owner,
            task_id=task.id,
            follow_ups=desired.follow_ups if replacing else (),
            reasons=reasons,
        )
    return _plan_follow_ups(desired, owner, existing)


def _plan_follow_ups(desired: DesiredTask, owner: str, existing: ObservedTask) -> Action:
    """An owned task that matches the manifest: send what its logs do not show delivered."""
    task_id = existing.task.id
    if not desired.follow_ups:
        return _action(ActionKind.NOOP, desired, owner, task_id=task_id)
    if existing.inputs is None:
        return _action(
            ActionKind.SEND,
            desired,
            owner,
            task_id=task_id,
            follow_ups=desired.follow_ups,
            logs_verified=False,
            reasons=(f"delivery unverified: {existing.logs_error or 'logs not read'}",),
        )
    done = delivered_count(existing.inputs, desired.prompt, desired.follow_ups)
    pending = desired.follow_ups[done:]
    kind = ActionKind.SEND if pending else ActionKind.NOOP
    return _action(kind, desired, owner, task_id=task_id, follow_ups=pending, delivered=done)


def _action(
    kind: ActionKind,
    desired: DesiredTask,
    owner: str,
    *,
    task_id: str | None = None,
    follow_ups: tuple[str, ...] = (),
    delivered: int = 0,
    logs_verified: bool = True,
    reasons: tuple[str, ...] = (),
) -> Action:
    """The action on a manifest entry: named as the manifest and Coder name it."""
    return Action(
        kind,
        desired.name,
        owner,
        desired.coder_name,
        desired,
        task_id=task_id,
        follow_ups=follow_ups,
        delivered=delivered,
        logs_verified=logs_verified,
        reasons=reasons,
    )


def drift_reasons(
    desired: DesiredTask, existing: ObservedTask, resolved: ResolvedTask | None
) -> tuple[str, ...]:
    """How an existing task differs from the manifest in what the API shows (not its preset)."""
    task = existing.task
    reasons = []
    if (task.initial_prompt or "").strip() != desired.prompt.strip():
        reasons.append("prompt differs")
    # No template in the manifest pins nothing (a chat's agent picks its environment), so
    # there is no template to differ from; one the item lacks (a chat bound to no workspace)
    # differs. A workspace that could not be read is not taken for a missing one.
    wanted = desired.template
    if wanted is not None and not task.template_id and task.workspace_id is None:
        reasons.append(f"no template pinned, manifest says {wanted!r}")
    elif wanted is not None and task.template_name and task.template_name.lower() != wanted.lower():
        reasons.append(f"template is {task.template_name!r}, manifest says {wanted!r}")
    if (
        desired.template_version is not None
        and resolved is not None
        and task.template_version_id != resolved.version_id
    ):
        reasons.append(f"template version differs from pinned {desired.template_version!r}")
    # Only a model the manifest names is compared: without one the chat keeps whichever model
    # it runs on (the deployment's default may change).
    model = resolved.model if resolved is not None else None
    if model is not None and task.model_config_id and task.model_config_id != model.id:
        reasons.append(f"model differs from {desired.model!r}")
    return tuple(reasons)
