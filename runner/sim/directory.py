"""The deployment's fixed people and things: users, organizations, templates, presets.

Users: `admin` (site owner, sees every task, only in `coder`), members `alice` (in `coder` and
`research`) and `bob` (in `coder`). Templates: `coder/claude-code` (AI, versions v1 and v2, v2
active, plus v0, an older version without a `coder_ai_task` resource), `coder/docker` (no AI
task), `research/claude-code` and `research/goose` (AI).
Every AI template version has presets `Small` (the default) and `Large`.

`coder/claude-code` v0 is what CONTRACT 1.6 describes: a non-active version that is not an AI
template. The filtered template list cannot tell (it judges the active version), so only the
create finds out: 400 `Template does not have a valid "coder_ai_task" resource.` (CONTRACT 1.3
step 3; `has_ai_task` is a column of the version).
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from runner.sim.clock import rfc3339
from runner.sim.versions import SimVersion


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _token_part(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))


@dataclass
class SimUser:
    id: str
    username: str
    name: str
    owner: bool  # site-wide owner role: reads and manages everything
    org_ids: list[str]
    token_id: str
    token_secret: str
    created_at: float

    @property
    def token(self) -> str:
        return f"{self.token_id}-{self.token_secret}"


@dataclass
class SimOrg:
    id: str
    name: str
    display_name: str
    is_default: bool
    created_at: float


@dataclass
class SimPreset:
    id: str
    name: str
    default: bool
    parameters: list[tuple[str, str]]


@dataclass
class SimTemplateVersion:
    id: str
    name: str
    template_id: str
    org_id: str
    has_ai_task: bool
    presets: list[SimPreset]
    created_at: float


@dataclass
class SimTemplate:
    id: str
    name: str
    display_name: str
    icon: str
    org_id: str
    has_ai_task: bool
    created_at: float
    versions: list[SimTemplateVersion] = field(default_factory=list)
    active_version_id: str = ""


class Directory:
    """Seeded users, organizations and templates, with Coder's lookup rules."""

    def __init__(self, rng: random.Random, created_at: float) -> None:
        self.orgs = [
            SimOrg(_uuid(rng), "coder", "Coder", True, created_at),
            SimOrg(_uuid(rng), "research", "Research", False, created_at),
        ]
        coder, research = (o.id for o in self.orgs)
        self.users = [
            SimUser(_uuid(rng), name, title, owner, orgs, _token_part(rng, 10),
                    _token_part(rng, 22), created_at)
            for name, title, owner, orgs in (
                ("admin", "Admin", True, [coder]),
                ("alice", "Alice", False, [coder, research]),
                ("bob", "Bob", False, [coder]),
            )
        ]  # fmt: skip
        self.templates: list[SimTemplate] = []
        for org, name, display, icon, ai, versions in (
            (coder, "claude-code", "Claude Code", "/icon/claude.svg", True, ("v1", "v2")),
            (coder, "docker", "Docker", "/icon/docker.svg", False, ("v1",)),
            (research, "claude-code", "Claude Code", "/icon/claude.svg", True, ("v1",)),
            (research, "goose", "Goose", "/icon/goose.svg", True, ("v1",)),
        ):
            template = SimTemplate(_uuid(rng), name, display, icon, org, ai, created_at)
            for version_name in versions:
                presets = (
                    [
                        SimPreset(_uuid(rng), "Small", True, [("cpu", "2"), ("memory", "4")]),
                        SimPreset(_uuid(rng), "Large", False, [("cpu", "8"), ("memory", "16")]),
                    ]
                    if ai
                    else []
                )
                template.versions.append(
                    SimTemplateVersion(
                        _uuid(rng), version_name, template.id, org, ai, presets, created_at
                    )
                )
            template.active_version_id = template.versions[-1].id
            self.templates.append(template)
        # Drawn after everything else, so the other seeded IDs stay as they were; listed between
        # v1 and v2, so the first version stays an AI one and the last the active one.
        claude = self.templates[0]
        claude.versions.insert(
            1, SimTemplateVersion(_uuid(rng), "v0", claude.id, coder, False, [], created_at)
        )

    # Users -------------------------------------------------------------------------------

    def user_by_token_id(self, token_id: str) -> SimUser | None:
        return next((u for u in self.users if u.token_id == token_id), None)

    def find_user(self, ref: str) -> SimUser | None:
        """A user by UUID or username (case-insensitive); None when there is none."""
        lowered = ref.lower()
        return next((u for u in self.users if u.id == lowered or u.username == lowered), None)

    def can_see_user(self, viewer: SimUser, user: SimUser) -> bool:
        """Owners see everyone; members see users they share an organization with."""
        return viewer.owner or bool(set(viewer.org_ids) & set(user.org_ids))

    def user(self, user_id: str) -> SimUser:
        return next(u for u in self.users if u.id == user_id)

    # Organizations -----------------------------------------------------------------------

    def find_org(self, ref: str) -> SimOrg | None:
        lowered = ref.lower()
        return next((o for o in self.orgs if o.id == lowered or o.name == lowered), None)

    def org(self, org_id: str) -> SimOrg:
        return next(o for o in self.orgs if o.id == org_id)

    def can_see_org(self, viewer: SimUser, org: SimOrg) -> bool:
        return viewer.owner or org.id in viewer.org_ids

    # Templates ---------------------------------------------------------------------------

    def template(self, template_id: str) -> SimTemplate:
        return next(t for t in self.templates if t.id == template_id)

    def find_version(self, version_id: str) -> SimTemplateVersion | None:
        for template in self.templates:
            for version in template.versions:
                if version.id == version_id.lower():
                    return version
        return None


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# JSON shapes ------------------------------------------------------------------------------


def user_json(user: SimUser, version: SimVersion) -> dict[str, Any]:
    """`codersdk.User` (`codersdk/users.go`; `has_ai_seat` is new in the v2.32+ line). Empty
    `omitempty` fields (`avatar_url`, `theme_preference`) are left out, as Go does."""
    roles = [{"name": "owner", "display_name": "Owner"}] if user.owner else []
    body: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "email": f"{user.username}@example.com",
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.created_at),
        "last_seen_at": rfc3339(user.created_at),
        "status": "active",
        "login_type": "password",
        "organization_ids": list(user.org_ids),
        "roles": roles,
    }
    if version.at_least(2, 32):
        body["has_ai_seat"] = False
    return body


def org_json(org: SimOrg, version: SimVersion) -> dict[str, Any]:
    """`codersdk.Organization` (`default_org_member_roles` is new in the v2.32+ line)."""
    body: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "display_name": org.display_name,
        "description": "",
        "icon": "",
        "created_at": rfc3339(org.created_at),
        "updated_at": rfc3339(org.created_at),
        "is_default": org.is_default,
    }
    if version.at_least(2, 32):
        body["default_org_member_roles"] = []
    return body


def template_json(
    template: SimTemplate, org: SimOrg, creator: SimUser, version: SimVersion
) -> dict[str, Any]:
    """`codersdk.Template` of `version`'s generation (`codersdk/templates.go`)."""
    no_stats = {"P50": None, "P95": None}  # Go field names: TransitionStats has no json tags
    body: dict[str, Any] = {
        "id": template.id,
        "created_at": rfc3339(template.created_at),
        "updated_at": rfc3339(template.created_at),
        "organization_id": org.id,
        "organization_name": org.name,
        "organization_display_name": org.display_name,
        "organization_icon": "",
        "name": template.name,
        "display_name": template.display_name,
        "provisioner": "terraform",
        "active_version_id": template.active_version_id,
        "active_user_count": 0,
        "build_time_stats": {"start": no_stats, "stop": no_stats, "delete": no_stats},
        "description": "",
        "deprecated": False,
        "deprecation_message": "",
        "icon": template.icon,
        "default_ttl_ms": 0,
        "activity_bump_ms": 3600000,
        "allow_user_autostart": True,
        "allow_user_autostop": True,
        "allow_user_cancel_workspace_jobs": False,
        "created_by_id": creator.id,
        "created_by_name": creator.username,
        "require_active_version": False,
        "max_port_share_level": "owner",
        "failure_ttl_ms": 0,
        "time_til_dormant_ms": 0,
        "time_til_dormant_autodelete_ms": 0,
        "autostop_requirement": {"days_of_week": [], "weeks": 0},
        "autostart_requirement": {"days_of_week": list(WEEKDAYS)},
        "use_classic_parameter_flow": False,
        "cors_behavior": "simple",
    }
    if version.at_least(2, 31):
        body.update({"deleted": False, "disable_module_cache": False})
    elif version.is_ga:
        body["use_terraform_workspace_cache"] = False
    return body


def template_version_json(
    version: SimTemplateVersion, template: SimTemplate, creator: SimUser
) -> dict[str, Any]:
    """`codersdk.TemplateVersion` (it has no `has_ai_task`: CONTRACT 1.6)."""
    job_time = rfc3339(version.created_at)
    return {
        "id": version.id,
        "template_id": template.id,
        "organization_id": version.org_id,
        "created_at": job_time,
        "updated_at": job_time,
        "name": version.name,
        "message": "",
        "job": {
            "id": version.id,
            "created_at": job_time,
            "started_at": job_time,
            "completed_at": job_time,
            "status": "succeeded",
            "file_id": version.id,
            "tags": {"scope": "organization"},
            "queue_position": 0,
            "queue_size": 0,
            "organization_id": version.org_id,
            "initiator_id": creator.id,
            "input": {"template_version_id": version.id},
            "type": "template_version_import",
            "metadata": {
                "template_version_name": version.name,
                "template_id": template.id,
                "template_name": template.name,
                "template_display_name": template.display_name,
                "template_icon": template.icon,
            },
            "logs_overflowed": False,
        },
        "readme": "",
        "created_by": {"id": creator.id, "username": creator.username},
        "archived": False,
        "has_external_agent": False,
    }


def preset_json(preset: SimPreset) -> dict[str, Any]:
    """`codersdk.Preset`: Go's default (capitalised) JSON keys."""
    return {
        "ID": preset.id,
        "Name": preset.name,
        "Parameters": [{"Name": n, "Value": v} for n, v in preset.parameters],
        "Default": preset.default,
        "DesiredPrebuildInstances": None,
        "Description": "",
        "Icon": "",
    }
