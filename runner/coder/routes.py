"""Request paths and query strings, per API generation (CONTRACT sections 1, 5, 6 and 8)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NIL_UUID = "00000000-0000-0000-0000-000000000000"


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID in its canonical 8-4-4-4-12 form."""
    return bool(_UUID.match(text))


def segment(value: str) -> str:
    """One path segment, percent-encoded so names cannot add path levels."""
    return quote(value, safe="")


def task_query(
    *, owner: str | None, organization: str | None = None, status: str | None = None
) -> str:
    """The `q` value exactly as Coder's SDK builds it: quoted values, only set terms, spaces."""
    terms: list[str] = []
    if owner:
        terms.append(f"owner:{go_quote(owner)}")
    if organization:
        terms.append(f"organization:{go_quote(organization)}")
    if status:
        terms.append(f"status:{go_quote(status)}")
    return " ".join(terms)


def go_quote(value: str) -> str:
    """A double-quoted string as Go's `%q` writes it for ordinary text."""
    return json.dumps(value, ensure_ascii=False)


class TaskRoutes:
    """Task paths under one generation's base (`/api/experimental/tasks` or `/api/v2/tasks`)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def collection(self) -> str:
        """List tasks."""
        return self.base

    def owner(self, owner: str) -> str:
        """Create a task for `owner`."""
        return f"{self.base}/{segment(owner)}"

    def task(self, owner: str, task: str) -> str:
        """One task, by id (or by name on GA)."""
        return f"{self.base}/{segment(owner)}/{segment(task)}"

    def action(self, owner: str, task: str, action: str) -> str:
        """`send`, `logs`, `pause`, `resume` or `input` of one task."""
        return f"{self.task(owner, task)}/{action}"


BUILDINFO = "/api/v2/buildinfo"
USERS_ME = "/api/v2/users/me"
MY_ORGANIZATIONS = "/api/v2/users/me/organizations"
TEMPLATES = "/api/v2/templates"


def user(name: str) -> str:
    """A user by username, UUID or `me`."""
    return f"/api/v2/users/{segment(name)}"


def organization(name: str) -> str:
    """An organization by name or UUID."""
    return f"/api/v2/organizations/{segment(name)}"


def template(organization_name: str, name: str) -> str:
    """A template by organization (name or UUID) and name."""
    return f"{organization(organization_name)}/templates/{segment(name)}"


def template_version_by_name(organization: str, template_name: str, version: str) -> str:
    """A template version by organization, template name and version name."""
    return f"{template(organization, template_name)}/versions/{segment(version)}"


def template_version(version_id: str) -> str:
    """A template version by id."""
    return f"/api/v2/templateversions/{segment(version_id)}"


def presets(version_id: str) -> str:
    """The presets of a template version."""
    return f"{template_version(version_id)}/presets"


def templates_query(organization_id: str, *, ai_only: bool) -> str:
    """`q` for the template list, as Coder's CLI builds it for `task create`."""
    query = f"organization:{go_quote(organization_id)}"
    return f"{query} has-ai-task:true" if ai_only else query
