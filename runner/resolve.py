"""Coder's rules for what a task is created from: organization, template, version, preset.

One resolver serves `tasks create` (one task, Coder's CLI wording) and batch preflight (many
tasks, every problem at once). Each lookup runs once per distinct key. A rule that fails raises
a typed `Unresolved` carrying the facts; the caller words it (Coder's CLI and a batch manifest
speak differently), and API errors of the lookups propagate unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from runner.coder.models import Organization, Preset, Template, TemplateVersion, User
from runner.errors import TasksError

if TYPE_CHECKING:
    from runner.coder.client import CoderClient

T = TypeVar("T")


class Unresolved(TasksError):
    """A resolution rule failed; subclasses carry what the caller needs to word it."""


class UnknownOrganization(Unresolved):
    def __init__(self, wanted: str, names: list[str]) -> None:
        super().__init__(f"organization {wanted!r} not found")
        self.wanted = wanted
        self.names = names


class OrganizationNotChosen(Unresolved):
    """Several organizations (or none) and nothing that picks one."""

    def __init__(self, names: list[str], holders: int | None = None) -> None:
        super().__init__("no organization chosen")
        self.names = names
        self.holders = holders  # how many of them hold the template, when one was named


class NoTaskTemplate(Unresolved):
    def __init__(self) -> None:
        super().__init__("no task templates configured")


class TemplateNotChosen(Unresolved):
    def __init__(self, names: list[str]) -> None:
        super().__init__("template name not provided")
        self.names = names


class NotTaskTemplate(Unresolved):
    def __init__(self, template: str) -> None:
        super().__init__(f"template {template!r} is not an AI-task template")
        self.template = template


class NoDefaultPreset(Unresolved):
    def __init__(self) -> None:
        super().__init__("no default preset")


class UnknownPreset(Unresolved):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"preset {name!r} not found")
        self.name = name
        self.known = known


class Resolver:
    """Looks things up on one deployment, each distinct lookup once (failures included)."""

    def __init__(self, client: CoderClient, me: Callable[[], User] | None = None) -> None:
        self.client = client
        self._values: dict[tuple[str, ...], object] = {}
        self._me = me  # the command's own read of the token's user: `users/me` once a command

    def owner(self, owner: str) -> User:
        if owner == "me" and self._me is not None:
            return self._once(("owner", owner), self._me)
        return self._once(("owner", owner), lambda: self.client.get_user(owner))

    def organizations(self) -> list[Organization]:
        return self._once(("orgs",), self.client.my_organizations)

    def organization(self, wanted: str | None, template: str | None = None) -> Organization:
        """`wanted` (name or UUID), else the only one, else the only one holding `template`."""
        orgs = self.organizations()
        names = [o.name for o in orgs]
        if wanted:
            for org in orgs:
                if wanted in (org.name, org.id):
                    return org
            raise UnknownOrganization(wanted, names)
        if len(orgs) == 1:
            return orgs[0]
        if template is None or not orgs:
            raise OrganizationNotChosen(names)
        holders = [o for o in orgs if template in self._template_names(o)]
        if len(holders) == 1:
            return holders[0]
        raise OrganizationNotChosen(names, len(holders))

    def task_templates(self, org: Organization) -> list[Template]:
        """The organization's AI-task templates (Coder filters them, CONTRACT 1.6)."""
        return self._once(
            ("ai-templates", org.id), lambda: self.client.list_templates(org.id, ai_only=True)
        )

    def only_task_template(self, org: Organization) -> Template:
        """The template Coder picks when none is named: the organization's only task template."""
        templates = self.task_templates(org)
        if not templates:
            raise NoTaskTemplate()
        if len(templates) > 1:
            raise TemplateNotChosen([t.name for t in templates])
        return templates[0]

    def template(self, org: Organization, name: str) -> Template:
        return self._once(
            ("template", org.id, name), lambda: self.client.get_template(org.id, name)
        )

    def pinned_version(self, org: Organization, template: str, version: str) -> TemplateVersion:
        """A version named explicitly; only the create itself can judge it (CONTRACT 1.6)."""
        return self._once(
            ("version", org.id, template, version),
            lambda: self.client.get_template_version(org.id, template, version),
        )

    def active_task_version(self, org: Organization, template: Template) -> TemplateVersion:
        """The template's active version, which must be an AI-task template."""
        # Coder tells a client only whether a template's *active* version is an AI template,
        # through the filtered template list (CONTRACT 1.6).
        if template.id not in {t.id for t in self.task_templates(org)}:
            raise NotTaskTemplate(template.name)
        return self.active_version(template)

    def active_version(self, template: Template) -> TemplateVersion:
        """The template's active version, whatever the template is for."""
        return self._once(
            ("version-id", template.active_version_id),
            lambda: self.client.template_version(template.active_version_id),
        )

    def presets(self, version_id: str) -> list[Preset]:
        return self._once(("presets", version_id), lambda: self.client.presets(version_id))

    def preset(self, version_id: str, name: str) -> Preset:
        """The preset called `name`, or the version's default one for an empty name."""
        presets = self.presets(version_id)
        if name == "":
            for candidate in presets:
                if candidate.default:
                    return candidate
            raise NoDefaultPreset()
        for candidate in presets:
            if candidate.name == name:
                return candidate
        raise UnknownPreset(name, [p.name for p in presets])

    def _template_names(self, org: Organization) -> set[str]:
        return self._once(
            ("templates", org.id), lambda: {t.name for t in self.client.list_templates(org.id)}
        )

    def _once(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        if key not in self._values:
            try:
                self._values[key] = load()
            except TasksError as error:
                self._values[key] = error
        value = self._values[key]
        if isinstance(value, TasksError):
            raise value
        return value  # type: ignore[return-value]
