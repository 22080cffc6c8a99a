"""Preflight: resolve what a batch refers to before anything changes.

Every distinct owner, organization, template, template version and preset is looked up once, not
once per task; templates must be AI-task templates; and every problem is reported together, each
with the tasks it affects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from runner.coder.models import Organization, Preset, Template, TemplateVersion, User
from runner.errors import ApiError, AuthError, InvalidInputError
from runner.manifest.model import DesiredTask

if TYPE_CHECKING:
    from runner.coder.client import CoderClient

T = TypeVar("T")


@dataclass(frozen=True)
class ResolvedTask:
    """The deployment objects one desired task stands for."""

    owner: User
    organization: Organization
    template: Template
    version: TemplateVersion
    preset: Preset | None


class PreflightError(InvalidInputError):
    """The batch names things the deployment does not have (or that cannot run tasks)."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        lines = [f"{problem} (tasks: {', '.join(names)})" for problem, names in problems.items()]
        count = len(lines)
        summary = lines[0] if count == 1 else f"preflight found {count} problems"
        super().__init__(summary, details=lines if count > 1 else ())
        self.problems = problems


class _Failed(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Cache:
    """Each lookup runs once per distinct key; a failure is remembered as the same problem."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], object] = {}

    def get(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        if key not in self._values:
            try:
                self._values[key] = load()
            except _Failed as failed:
                self._values[key] = failed
        value = self._values[key]
        if isinstance(value, _Failed):
            raise value
        return value  # type: ignore[return-value]


def task_key(task: DesiredTask) -> str:
    """How a desired task is found among its batch's: its owner as written, and its name.

    A name alone is not enough: a manifest may give two owners a task of the same name.
    """
    return f"{task.owner}/{task.name.lower()}"


def preflight(client: CoderClient, tasks: Sequence[DesiredTask]) -> dict[str, ResolvedTask]:
    """Resolve every desired task (keyed by `task_key`); PreflightError lists all problems."""
    resolver = _Resolver(client)
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


def resolve_owners(client: CoderClient, tasks: Sequence[DesiredTask]) -> dict[str, User]:
    """Each distinct owner value of `tasks` resolved to a user (for observation only)."""
    resolver = _Resolver(client)
    owners: dict[str, User] = {}
    problems: dict[str, list[str]] = {}
    for task in tasks:
        try:
            owners[task.owner] = resolver.owner(task.owner)
        except _Failed as failed:
            problems.setdefault(failed.problem, []).append(task.name)
    if problems:
        raise PreflightError(problems)
    return owners


class _Resolver:
    def __init__(self, client: CoderClient) -> None:
        self.client = client
        self.cache = _Cache()

    def resolve(self, task: DesiredTask) -> ResolvedTask:
        owner = self.owner(task.owner)
        organization = self.organization(task.organization, task.template)
        template = self.template(organization, task.template)
        version = self.version(organization, template, task.template_version)
        preset = self.preset(version, task.preset) if task.preset is not None else None
        return ResolvedTask(owner, organization, template, version, preset)

    def owner(self, owner: str) -> User:
        return self.cache.get(
            ("owner", owner),
            lambda: self._call(lambda: self.client.get_user(owner), f"owner {owner!r} not found"),
        )

    def organizations(self) -> list[Organization]:
        return self.cache.get(("orgs",), self.client.my_organizations)

    def organization(self, wanted: str | None, template: str) -> Organization:
        orgs = self.organizations()
        names = ", ".join(sorted(o.name for o in orgs)) or "none"
        if wanted is not None:
            for org in orgs:
                if wanted in (org.name, org.id):
                    return org
            raise _Failed(f"organization {wanted!r} not found; you are a member of: {names}")
        if len(orgs) == 1:
            return orgs[0]
        if not orgs:
            raise _Failed("you are a member of no organization")
        # Several organizations: the template's name decides, when it is unique among them.
        holders = [o for o in orgs if template in self._template_names(o)]
        if len(holders) == 1:
            return holders[0]
        raise _Failed(
            f"template {template!r} is in {len(holders)} of your organizations; "
            f"set `organization` (one of: {names})"
        )

    def _template_names(self, org: Organization) -> set[str]:
        def load() -> set[str]:
            return {t.name for t in self.client.list_templates(org.id)}

        return self.cache.get(("templates", org.id), load)

    def template(self, org: Organization, name: str) -> Template:
        return self.cache.get(
            ("template", org.id, name),
            lambda: self._call(
                lambda: self.client.get_template(org.id, name),
                f"template {name!r} not found in organization {org.name!r}",
            ),
        )

    def version(
        self, org: Organization, template: Template, version: str | None
    ) -> TemplateVersion:
        def load() -> TemplateVersion:
            if version is None:
                # Coder tells a client only whether a template's *active* version is an AI
                # template, through the filtered template list (CONTRACT 1.6).
                if template.id not in self._ai_template_ids(org):
                    raise _Failed(
                        f"template {template.name!r} is not an AI-task template "
                        "(its active version has no coder_ai_task resource)"
                    )
                return self._call(
                    lambda: self.client.template_version(template.active_version_id),
                    f"the active version of template {template.name!r} cannot be read",
                )
            # A pinned version can be judged only by the create itself (CONTRACT 1.6).
            return self._call(
                lambda: self.client.get_template_version(org.id, template.name, version),
                f"template {template.name!r} has no version {version!r}",
            )

        return self.cache.get(("version", org.id, template.name, version or ""), load)

    def _ai_template_ids(self, org: Organization) -> set[str]:
        def load() -> set[str]:
            return {t.id for t in self.client.list_templates(org.id, ai_only=True)}

        return self.cache.get(("ai-templates", org.id), load)

    def preset(self, version: TemplateVersion, name: str) -> Preset:
        presets = self.cache.get(
            ("presets", version.id),
            lambda: self._call(
                lambda: self.client.presets(version.id),
                f"presets of template version {version.name!r} cannot be read",
            ),
        )
        if name == "":
            defaults = [p for p in presets if p.default]
            if not defaults:
                raise _Failed(f"template version {version.name!r} has no default preset")
            return defaults[0]
        for preset in presets:
            if preset.name == name:
                return preset
        known = ", ".join(p.name for p in presets) or "none"
        raise _Failed(f"preset {name!r} not found in version {version.name!r} (presets: {known})")

    @staticmethod
    def _call(load: Callable[[], T], problem: str) -> T:
        try:
            return load()
        except AuthError:
            raise
        except ApiError as error:
            if error.status in (400, 403, 404):
                raise _Failed(problem) from error
            raise
