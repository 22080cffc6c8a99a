"""Workspaces a Chats client pre-creates to pin a template version and preset (CHATS-CONTRACT 3
and 6): create, read, and new builds (delete). They share the task store's workspace list, so a
name is unique across both, as it is on one Coder deployment.

Follows `createWorkspace` and `postWorkspaceBuilds` in Coder's `coderd/workspaces.go` and
`coderd/workspacebuilds.go` at the contract's HEAD commit: both answer 201 (swagger lists 200).
The lookup by owner and name, which the swagger subset leaves out, follows
`workspaceByOwnerAndName` in `coderd/workspaces.go` (routed in `coderd/coderd.go`) at
v2.33.0-rc.1: names compare case-insensitively, deleted workspaces are not found (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from runner.sim.apierror import ApiError, Validation, not_found
from runner.sim.clock import rfc3339
from runner.sim.directory import SimUser
from runner.sim.names import name_problem
from runner.sim.routes import Api, Request, Result, Route, _pattern
from runner.sim.task_json import workspace_build_json
from runner.sim.task_record import is_uuid
from runner.sim.tasks import BUILD_ACTIVE, TaskStore
from runner.sim.workspace import Workspace, schedule_build

TRANSITIONS = ("start", "stop", "delete")


class WorkspaceRoutes:
    """`POST /users/{user}/workspaces`, `GET /workspaces/{id}`, `POST /workspaces/{id}/builds`."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self.directory = store.directory

    def routes(self) -> list[Route]:
        return [
            Route(_pattern("/api/v2/users/{user}/workspaces"), {"POST": self.create}),
            Route(_pattern("/api/v2/users/{user}/workspace/{name}"), {"GET": self.by_name}),
            Route(_pattern("/api/v2/workspaces"), {"GET": self.list}),
            Route(_pattern("/api/v2/workspaces/{workspace}"), {"GET": self.get}),
            Route(_pattern("/api/v2/workspaces/{workspace}/builds"), {"POST": self.build}),
        ]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.store.rng.getrandbits(128), version=4))

    def _find(self, caller: SimUser, ref: str) -> Workspace:
        if not is_uuid(ref):
            raise ApiError(400, f'Invalid UUID "{ref}".', detail=f"invalid UUID length: {len(ref)}")
        now = self.store.clock.now()
        for workspace in self.store.workspaces:
            mine = caller.owner or workspace.owner_id == caller.id
            if workspace.id == ref.lower() and not workspace.gone(now) and mine:
                return workspace
        raise not_found()

    def create(self, request: Request) -> Result:
        body = request.json()
        caller = request.user
        store = self.store
        with store.lock:
            owner = store.resolve_user(caller, request.params["user"])
            raw_name = body.get("name")
            name = raw_name if isinstance(raw_name, str) else ""
            if not name or name_problem(name):
                raise ApiError(
                    400,
                    "Validation failed.",
                    validations=[_tag_failure("name", "workspace_name", name)],
                )
            version = self._version(caller, body)
            preset_id = str(body.get("template_version_preset_id") or "").lower() or None
            if preset_id and preset_id not in {p.id for p in version.presets}:
                raise ApiError(
                    400,
                    "Invalid template version preset.",
                    detail=f'preset "{preset_id}" does not belong to template version',
                )
            if (owner.id != caller.id and not caller.owner) or version.org_id not in owner.org_ids:
                raise ApiError(403, "Unauthorized to create workspace.")
            now = store.clock.now()
            for other in store.workspaces:
                same = other.owner_id == owner.id and other.name.lower() == name.lower()
                if same and not other.gone(now):
                    raise ApiError(
                        409,
                        f'Workspace "{name}" already exists.',
                        validations=[
                            Validation("name", "This value is already in use and should be unique.")
                        ],
                    )
            build = schedule_build(
                store.clock,
                ids=(self._uuid(), self._uuid(), self._uuid(), self._uuid()),
                number=1,
                transition="start",
                reason="initiator",
                initiator_id=caller.id,
                template_version_id=version.id,
                preset_id=preset_id,
            )
            workspace = Workspace(
                self._uuid(), name, owner.id, version.org_id, version.template_id, now, now, [build]
            )
            store.workspaces.append(workspace)
            return 201, self._json(workspace, caller, now)

    def _version(self, caller: SimUser, body: dict[str, Any]) -> Any:
        version_id = str(body.get("template_version_id") or "")
        template_id = str(body.get("template_id") or "")
        if template_id and not version_id:
            for template in self.directory.templates:
                if template.id == template_id.lower():
                    version_id = template.active_version_id
        version = self.directory.find_version(version_id) if version_id else None
        if version is None or not (caller.owner or version.org_id in caller.org_ids):
            raise ApiError(
                400, "Template version not found or you do not have access to this resource"
            )
        return version

    def list(self, request: Request) -> Result:
        """`GET /api/v2/workspaces?q=owner:<user>`: `{workspaces, count}` as
        `codersdk.WorkspacesResponse` (codersdk/workspaces.go), of the workspaces not deleted;
        `owner` is a term of `searchquery.Workspaces` (coderd/searchquery/search.go). Only that
        term is served here; any other answers a 400."""
        caller = request.user
        store = self.store
        terms = (request.query.get("q") or "").split()
        with store.lock:
            owner = None
            for term in terms:
                key, _, value = term.partition(":")
                if key != "owner" or not value:
                    raise ApiError(400, "Invalid workspace search query.")
                owner = store.resolve_user(caller, value)
            now = store.clock.now()
            found = [
                self._json(workspace, caller, now)
                for workspace in store.workspaces
                if not workspace.gone(now)
                and (caller.owner or workspace.owner_id == caller.id)
                and (owner is None or workspace.owner_id == owner.id)
            ]
            return 200, {"workspaces": found, "count": len(found)}

    def get(self, request: Request) -> Result:
        with self.store.lock:
            workspace = self._find(request.user, request.params["workspace"])
            return 200, self._json(workspace, request.user, self.store.clock.now())

    def by_name(self, request: Request) -> Result:
        caller = request.user
        store = self.store
        with store.lock:
            owner = store.resolve_user(caller, request.params["user"])
            name = request.params["name"].lower()
            now = store.clock.now()
            for workspace in store.workspaces:
                mine = caller.owner or workspace.owner_id == caller.id
                same = workspace.owner_id == owner.id and workspace.name.lower() == name
                if same and mine and not workspace.gone(now):
                    return 200, self._json(workspace, caller, now)
            raise not_found()

    def build(self, request: Request) -> Result:
        body = request.json()
        store = self.store
        with store.lock:
            workspace = self._find(request.user, request.params["workspace"])
            transition = body.get("transition")
            if transition not in TRANSITIONS:
                raise ApiError(
                    400,
                    "Validation failed.",
                    validations=[_tag_failure("transition", "oneof", str(transition or ""))],
                )
            now = store.clock.now()
            latest = workspace.latest
            if latest.job_active(now):
                raise ApiError(409, BUILD_ACTIVE)
            build = schedule_build(
                store.clock,
                ids=(self._uuid(), self._uuid(), self._uuid(), self._uuid()),
                number=latest.number + 1,
                transition=str(transition),
                reason="initiator",
                initiator_id=request.user.id,
                template_version_id=latest.template_version_id,
                preset_id=latest.preset_id,
            )
            workspace.builds.append(build)
            workspace.updated_at = now
            return 201, self._build_json(workspace, build, request.user, now)

    def _build_json(
        self, workspace: Workspace, build: Any, initiator: SimUser, now: float
    ) -> dict[str, Any]:
        has_task = any(t.workspace is workspace for t in self.store.tasks)
        body = workspace_build_json(
            self.directory, workspace, build, initiator, now, has_ai_task=has_task
        )
        # `template_version_preset_id` is a *uuid.UUID without omitempty: null when unset.
        body.setdefault("template_version_preset_id", None)
        return body

    def _json(self, workspace: Workspace, viewer: SimUser, now: float) -> dict[str, Any]:
        """`codersdk.Workspace` (`coderd/workspaces.go` `convertWorkspace`)."""
        owner = self.directory.user(workspace.owner_id)
        org = self.directory.org(workspace.org_id)
        template = self.directory.template(workspace.template_id)
        latest = workspace.latest
        initiator = self.directory.user(latest.initiator_id)
        task = next((t for t in self.store.tasks if t.workspace is workspace), None)
        body: dict[str, Any] = {
            "id": workspace.id,
            "created_at": rfc3339(workspace.created_at),
            "updated_at": rfc3339(workspace.updated_at),
            "owner_id": owner.id,
            "owner_name": owner.username,
            "owner_avatar_url": "",
            "organization_id": org.id,
            "organization_name": org.name,
            "template_id": template.id,
            "template_name": template.name,
            "template_display_name": template.display_name,
            "template_icon": template.icon,
            "template_allow_user_cancel_workspace_jobs": False,
            "template_active_version_id": template.active_version_id,
            "template_require_active_version": False,
            "template_use_classic_parameter_flow": False,
            "latest_build": self._build_json(workspace, latest, initiator, now),
            "latest_app_status": None,
            "outdated": latest.template_version_id != template.active_version_id,
            "name": workspace.name,
            "last_used_at": rfc3339(workspace.updated_at),
            "deleting_at": None,
            "dormant_at": None,
            "health": {"healthy": True, "failing_agents": []},
            "automatic_updates": "never",
            "allow_renames": False,
            "favorite": False,
            "next_start_at": None,
            "is_prebuild": False,
        }
        if task is not None:
            body["task_id"] = task.id
        return body


def _tag_failure(field: str, tag: str, value: str) -> Validation:
    """A go-playground validator failure as `coderd/httpapi` reports it."""
    return Validation(field, f'Validation failed for tag "{tag}" with value: "{value}"')


def install(api: Api, store: TaskStore) -> None:
    """Add the workspace routes to `api`'s route table."""
    api.routes.extend(WorkspaceRoutes(store).routes())
