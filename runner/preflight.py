"""Preflight: resolve what a batch refers to before anything changes.

Every distinct owner, organization, template, template version and preset is looked up once, not
once per task; templates must be AI-task templates; and every problem is reported together, each
with the tasks it affects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from runner.coder.models import Organization, Preset, Template, TemplateVersion, User
from runner.errors import (
    ApiError,
    AuthError,
    InvalidInputError,
    LocatedError,
    Location,
    ManifestError,
)
from runner.item import ResolvedTask, task_key
from runner.manifest.model import Batch, DesiredTask
from runner.resolve import (
    NoDefaultPreset,
    NotTaskTemplate,
    OrganizationNotChosen,
    Resolver,
    UnknownOrganization,
    UnknownPreset,
)
from runner.secrets import TOKEN_REFUSED, holds_token

if TYPE_CHECKING:
    from runner.coder.client import CoderClient

T = TypeVar("T")


class PreflightError(InvalidInputError):
    """The batch names things the deployment does not have (or that cannot run tasks)."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        lines = [f"{problem} (tasks: {', '.join(names)})" for problem, names in problems.items()]
        count = len(lines)
        summary = lines[0] if count == 1 else f"preflight found {count} problems"
        super().__init__(summary, details=lines if count > 1 else ())
        self.problems = problems


def located(task: DesiredTask, problem: str) -> LocatedError:
    """`problem` of one desired task, at its manifest entry: `file:line: task 'name': problem`."""
    origin = task.origin
    where = Location(origin.file, origin.line, 0) if origin else Location("<batch>", 0, 0)
    return LocatedError(where, f"task {task.name!r}: {problem}")


def refuse_token(tasks: Sequence[DesiredTask], token: str | None) -> None:
    """A ManifestError locating each task whose text would carry the session token to the
    server (prompt, follow-ups; name, owner and the rest become labels, titles or names)."""
    errors = [
        located(task, f"its {field} {TOKEN_REFUSED}")
        for task in tasks
        for field, texts in _texts(task)
        if any(holds_token(text, token) for text in texts)
    ]
    if errors:
        raise ManifestError(errors)


def _texts(task: DesiredTask) -> list[tuple[str, Sequence[str]]]:
    optional = ("template", "template_version", "preset", "organization")
    return [
        ("name", [task.name]),
        ("prompt", [task.prompt]),
        ("follow_ups", task.follow_ups),
        ("retry_prompt", [task.retry_prompt or ""]),
        ("owner", [task.owner]),
        *((field, [getattr(task, field) or ""]) for field in optional),
    ]


def require_templates(tasks: Sequence[DesiredTask]) -> None:
    """What Tasks asks of a manifest beyond the schema: a ManifestError locating each task that
    has no template (Coder Tasks creates every task from one), expects what Tasks cannot tell, or
    sets a field only Chats have (`model`, `labels`).
    """
    errors = [
        located(
            task,
            "Tasks needs a template (Coder Tasks creates every task from one); set `template` "
            "in the task or in defaults, or run the batch on chats",
        )
        for task in tasks
        if task.template is None
    ]
    errors += [
        located(task, f"`model` {task.model!r} needs Chats: {_TASKS_CHOOSE_MODELS}")
        for task in tasks
        if task.model is not None
    ]
    errors += [
        located(task, f"`labels` need Chats: {_TASKS_HAVE_NO_LABELS}")
        for task in tasks
        if task.labels
    ]
    # A task reports a pull request only as a URL (its status `uri`, CONTRACT 2.2): whether
    # it was merged cannot be told, and an expectation never passes unanswered.
    errors.extend(
        located(
            task,
            "expect.pull_request: merged cannot be checked on Tasks (a task reports a pull "
            "request only as a URL, not its state); expect opened, or run the batch on chats",
        )
        for task in tasks
        if task.expect.pull_request == "merged"
    )
    if errors:
        raise ManifestError(errors)


def require_tasks_clean_up(tasks: Sequence[DesiredTask], *, can_pause: bool) -> None:
    """A ManifestError locating each task whose `after:` Tasks cannot do: `remove` (a deleted
    task leaves nothing a re-run could recognise as done, so it would be created again), and
    `stop` where the server cannot pause tasks (CONTRACT 1: `POST …/pause`, v2.31.1+)."""
    errors = [
        located(
            task,
            "after: remove needs Chats: a deleted task leaves nothing a re-run could recognise "
            "as done, so it would be created again; use `after: stop` (pause), or run the batch "
            "on chats",
        )
        for task in tasks
        if task.after == "remove"
    ]
    if not can_pause:
        errors += [
            located(
                task,
                "after: stop pauses the task, which needs Coder v2.31.1 or later; this "
                "deployment cannot pause tasks",
            )
            for task in tasks
            if task.after == "stop"
        ]
    if errors:
        raise ManifestError(errors)


def require_cost(batch: Batch, has_cost: bool, server: str) -> None:
    """A ManifestError at `defaults.budget` and at each task's `expect.max_cost` where the
    server keeps no cost (`server` says which it is): a budget that is never reached, or a
    cost never read, would pass unchecked (CHATS-CONTRACT 7.4: the cost route is v2.36+)."""
    if has_cost:
        return
    why = f"needs the chat cost Coder keeps from v2.36 on (Coder Agents); {server} keeps none"
    errors = []
    if batch.limits.budget_micros is not None:
        # A saved plan has no line for it: its file, and the setting's path.
        where = batch.limits.budget_at or Location(batch.source, 0, 0, "defaults.budget")
        errors.append(LocatedError(where, why))
    errors += [located(t, f"expect.max_cost {why}") for t in batch.tasks if t.expect.max_cost]
    if errors:
        raise ManifestError(errors)


#: Why a Tasks batch cannot name a model.
_TASKS_CHOOSE_MODELS = (
    "Coder Tasks choose their model through the template and its presets; pick a preset, or "
    "run the batch on chats (`--backend chats`, Coder Agents)"
)

#: Why a Tasks batch cannot set labels.
_TASKS_HAVE_NO_LABELS = (
    "Coder Tasks carry no labels; run the batch on chats (`--backend chats`, Coder Agents)"
)


def preflight(
    client: CoderClient,
    tasks: Sequence[DesiredTask],
    *,
    ai_templates: bool = True,
    me: Callable[[], User] | None = None,
) -> dict[str, ResolvedTask]:
    """Resolve every desired task (keyed by `task_key`); PreflightError lists all problems.

    `ai_templates`: templates must be AI-task templates (Tasks), so every task needs one; a
    chat's pinned workspace may use any template, and a chat needs none. `me`: the token's
    user as the command reads it once (owner `me`).
    """
    refuse_token(tasks, client.connection.token)
    if ai_templates:
        require_templates(tasks)
    resolver = _Preflight(client, ai_templates, me)
    resolved: dict[str, ResolvedTask] = {}
    problems: dict[str, list[str]] = {}
    for task in tasks:
        try:
            resolved[task_key(task)] = resolver.resolve(task)
        except _Failed as failed:
            problems.setdefault(failed.problem, []).append(task.name)
    if problems:
        raise PreflightError(problems)
    return resolved


class _Failed(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Preflight:
    """The shared resolver, with each failure worded for a batch manifest."""

    def __init__(
        self,
        client: CoderClient,
        ai_templates: bool = True,
        me: Callable[[], User] | None = None,
    ) -> None:
        self.resolver = Resolver(client, me)
        self.ai_templates = ai_templates

    def resolve(self, task: DesiredTask) -> ResolvedTask:
        resolver = self.resolver
        owner = _problem(lambda: resolver.owner(task.owner), f"owner {task.owner!r} not found")
        if task.template is None:
            # A chat without a template: only the organization it is made in, if named.
            named = self.organization(task.organization, None) if task.organization else None
            return ResolvedTask(owner, named, None, None, None)
        name = task.template
        organization = self.organization(task.organization, name)
        template = _problem(
            lambda: resolver.template(organization, name),
            f"template {name!r} not found in organization {organization.name!r}",
        )
        version = self.version(organization, template, task.template_version)
        preset = self.preset(version, task.preset) if task.preset is not None else None
        return ResolvedTask(owner, organization, template, version, preset)

    def organization(self, wanted: str | None, template: str | None) -> Organization:
        try:
            return self.resolver.organization(wanted, template)
        except UnknownOrganization as error:
            names = ", ".join(sorted(error.names)) or "none"
            raise _Failed(
                f"organization {wanted!r} not found; you are a member of: {names}"
            ) from None
        except OrganizationNotChosen as error:
            if not error.names:
                raise _Failed("you are a member of no organization") from None
            names = ", ".join(sorted(error.names))
            raise _Failed(
                f"template {template!r} is in {error.holders} of your organizations; "
                f"set `organization` (one of: {names})"
            ) from None

    def version(
        self, org: Organization, template: Template, version: str | None
    ) -> TemplateVersion:
        if version is not None:
            return _problem(
                lambda: self.resolver.pinned_version(org, template.name, version),
                f"template {template.name!r} has no version {version!r}",
            )
        if not self.ai_templates:
            return _problem(
                lambda: self.resolver.active_version(template),
                f"the active version of template {template.name!r} cannot be read",
            )
        try:
            return _problem(
                lambda: self.resolver.active_task_version(org, template),
                f"the active version of template {template.name!r} cannot be read",
            )
        except NotTaskTemplate:
            raise _Failed(
                f"template {template.name!r} is not an AI-task template "
                "(its active version has no coder_ai_task resource)"
            ) from None

    def preset(self, version: TemplateVersion, name: str) -> Preset:
        try:
            return _problem(
                lambda: self.resolver.preset(version.id, name),
                f"presets of template version {version.name!r} cannot be read",
            )
        except NoDefaultPreset:
            raise _Failed(f"template version {version.name!r} has no default preset") from None
        except UnknownPreset as error:
            known = ", ".join(error.known) or "none"
            raise _Failed(
                f"preset {name!r} not found in version {version.name!r} (presets: {known})"
            ) from None


def _problem(load: Callable[[], T], problem: str) -> T:
    """`load()`, with a lookup the deployment refuses (400, 403, 404) reported as `problem`."""
    try:
        return load()
    except AuthError:
        raise
    except ApiError as error:
        if error.status in (400, 403, 404):
            raise _Failed(problem) from error
        raise
