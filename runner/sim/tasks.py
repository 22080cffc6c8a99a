"""The task store and every task operation, following CONTRACT sections 1 to 4.

Operations take the authenticated caller and already-decoded arguments and return JSON-ready
values or raise `ApiError`; HTTP lives elsewhere. One lock guards the whole store.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from runner.sim.agent import Agent
from runner.sim.apierror import ApiError, Validation, not_found
from runner.sim.clock import SimClock, rfc3339
from runner.sim.directives import parse_directives
from runner.sim.directory import Directory, SimUser
from runner.sim.names import display_name_from_prompt, fallback_name, name_from_prompt, name_problem
from runner.sim.search import parse_search
from runner.sim.status import derive_status, synthesized_message
from runner.sim.versions import SimVersion
from runner.sim.workspace import Build, Workspace, schedule_build

TASK_STATUSES = ("pending", "initializing", "active", "paused", "unknown", "error")
BUILD_ACTIVE = "A workspace build is already active."


@dataclass
class TaskRecord:
    id: str
    name: str
    display_name: str
    owner_id: str
    org_id: str
    template_id: str
    template_version_id: str
    initial_prompt: str
    created_at: float
    workspace: Workspace
    agent: Agent = field(default_factory=Agent)
    deleted_at: float | None = None
    snapshot: tuple[tuple[dict[str, Any], ...], float] | None = None


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


class TaskStore:
    """Tasks and their workspaces, readable by several request threads at once."""

    def __init__(
        self, version: SimVersion, directory: Directory, clock: SimClock, rng: random.Random
    ) -> None:
        self.version = version
        self.directory = directory
        self.clock = clock
        self.rng = rng
        self.lock = threading.Lock()
        self.tasks: list[TaskRecord] = []
        self.workspaces: list[Workspace] = []

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # Users ------------------------------------------------------------------------------

    def resolve_user(self, caller: SimUser, ref: str) -> SimUser:
        """The `{user}` path segment: `me`, a username or a UUID (no emails)."""
        if ref == "me":
            return caller
        user = self.directory.find_user(ref)
        if user is None:
            raise ApiError(
                400,
                '"user" must be an existing uuid or username.',
                detail=f'queried user="{ref}"',
            )
        if not self.directory.can_see_user(caller, user):
            raise not_found()
        return user

    # Reading ----------------------------------------------------------------------------

    def _can_read(self, caller: SimUser, task: TaskRecord) -> bool:
        return caller.owner or task.owner_id == caller.id

    def _live(self, caller: SimUser) -> list[TaskRecord]:
        return [t for t in self.tasks if t.deleted_at is None and self._can_read(caller, t)]

    def find(self, caller: SimUser, user_ref: str, task_ref: str) -> TaskRecord:
        """`{user}/{task}`: a UUID (any owner) or, on GA, a name among `{user}`'s tasks."""
        owner = self.resolve_user(caller, user_ref)
        if is_uuid(task_ref):
            wanted = task_ref.lower()
            found = next((t for t in self._live(caller) if t.id == wanted), None)
            if found is None:
                raise not_found()
            return found
        if not self.version.is_ga:
            raise ApiError(400, f'Invalid UUID "{task_ref}".')
        lowered = task_ref.lower()
        for task in self._live(caller):
            if task.owner_id == owner.id and task.name.lower() == lowered:
                return task
        raise not_found()

    def status_of(self, task: TaskRecord, now: float) -> str:
        build = task.workspace.latest
        return derive_status(
            self.version,
            has_workspace=True,
            transition=build.transition,
            job_status=build.job_status(now),
            agent_lifecycle=build.agent_lifecycle(now),
            app_health=build.app_health(now),
        )

    def _current_state(self, task: TaskRecord, now: float, status: str) -> dict[str, Any] | None:
        build = task.workspace.latest
        reports = task.agent.reports_until(now)
        if reports:
            last = reports[-1]
            # A report older than a newer start build is stale; a stop keeps it visible.
            if not (build.transition == "start" and last.at < build.created_at):
                state = last.state
                if state == "failure" and self.version.maps_failure_to_failed:
                    state = "failed"
                return {
                    "timestamp": rfc3339(last.at),
                    "state": state,
                    "message": last.message,
                    "uri": "",
                }
        if self.version.is_ga and status in ("pending", "initializing"):
            return {
                "timestamp": rfc3339(build.created_at),
                "state": "working",
                "message": synthesized_message(
                    build.job_status(now), build.agent_lifecycle(now), build.app_health(now)
                ),
                "uri": "",
            }
        return None

    def task_json(self, task: TaskRecord, now: float) -> dict[str, Any]:
        """`codersdk.Task` in the Go encoder's field order, per the simulated version."""
        owner = self.directory.user(task.owner_id)
        template = self.directory.template(task.template_id)
        workspace = task.workspace
        build = workspace.latest
        status = self.status_of(task, now)
        lifecycle = build.agent_lifecycle(now)
        body: dict[str, Any] = {
            "id": task.id,
            "organization_id": task.org_id,
            "owner_id": owner.id,
            "owner_name": owner.username,
            "name": task.name,
        }
        if self.version.is_ga:
            body["display_name"] = task.display_name
        body.update(
            {
                "template_id": template.id,
                "template_version_id": task.template_version_id,
                "template_name": template.name,
                "template_display_name": template.display_name,
                "template_icon": template.icon,
                "workspace_id": workspace.id,
                "workspace_name": workspace.name,
                "workspace_status": workspace.status(now),
                "workspace_build_number": build.number,
                "workspace_agent_id": build.agent_id if lifecycle else None,
                "workspace_agent_lifecycle": lifecycle,
                "workspace_agent_health": _agent_health(lifecycle),
                "workspace_app_id": build.app_id if lifecycle else None,
                "initial_prompt": task.initial_prompt,
                "status": status,
                "current_state": self._current_state(task, now, status),
                "created_at": rfc3339(task.created_at),
                "updated_at": rfc3339(workspace.updated_at),
            }
        )
        return body

    # Routes -----------------------------------------------------------------------------

    def list_tasks(self, caller: SimUser, query: str) -> dict[str, Any]:
        """`GET …/tasks?q=`: filtered, RBAC post-filtered, newest first."""
        message = "Invalid task search query."
        terms = parse_search(query, allowed=("owner", "organization", "status"), message=message)
        problems: list[Validation] = []
        owner_id = org_id = None
        if "owner" in terms:
            value = terms["owner"]
            user = caller if value == "me" else self.directory.find_user(value)
            if user is None or not self.directory.can_see_user(caller, user):
                problems.append(_bad_param("owner", f'user "{value}"', "them"))
            else:
                owner_id = user.id
        if "organization" in terms:
            value = terms["organization"]
            org = self.directory.find_org(value)
            if org is None or not self.directory.can_see_org(caller, org):
                problems.append(_bad_param("organization", f'organization "{value}"', "it"))
            else:
                org_id = org.id
        if problems:
            raise ApiError(400, message, validations=problems)
        status = terms.get("status")
        if status is not None and status not in TASK_STATUSES:
            # Coder casts the value to a Postgres enum and fails there.
            raise ApiError(
                500,
                "Internal error fetching tasks.",
                detail=f'invalid input value for enum task_status: "{status}"',
            )
        now = self.clock.now()
        with self.lock:
            found = [
                t
                for t in self._live(caller)
                if (owner_id is None or t.owner_id == owner_id)
                and (org_id is None or t.org_id == org_id)
            ]
            found.sort(key=lambda t: t.created_at, reverse=True)
            tasks = [self.task_json(t, now) for t in found]
        if status is not None:
            tasks = [t for t in tasks if t["status"] == status]
        return {"tasks": tasks, "count": len(tasks)}

    def get(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        with self.lock:
            return self.task_json(self.find(caller, user_ref, task_ref), self.clock.now())

    def create(self, caller: SimUser, user_ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """`POST …/tasks/{user}`: the steps of CONTRACT 1.3, in order."""
        with self.lock:
            owner = self.resolve_user(caller, user_ref)
            version = self.directory.find_version(str(body.get("template_version_id") or ""))
            if version is None or not (caller.owner or version.org_id in caller.org_ids):
                raise ApiError(
                    400,
                    "Template version not found or you do not have access to this resource",
                )
            if not version.has_ai_task:
                raise ApiError(400, 'Template does not have a valid "coder_ai_task" resource.')
            prompt = _text(body.get("input"))
            name = _text(body.get("name"))
            if name:
                problem = name_problem(name)
                if problem:
                    raise ApiError(
                        400, "Unable to create a Task with the provided name.", detail=problem
                    )
            display_name = ""
            if self.version.is_ga:
                display_name = _text(body.get("display_name")).strip()
                if len(display_name) > 64:
                    raise ApiError(400, "Display name must be 64 characters or less.")
                display_name = display_name or display_name_from_prompt(prompt)
            if not name:
                name = (
                    name_from_prompt(prompt, self.rng)
                    if self.version.is_ga
                    else fallback_name(self.rng, prefix="task-")
                )
            preset_id = _text(body.get("template_version_preset_id")) or None
            if preset_id and preset_id.lower() not in {p.id for p in version.presets}:
                raise ApiError(
                    400,
                    "Invalid template version preset.",
                    detail=f'preset "{preset_id}" does not belong to template version',
                )
            if owner.id != caller.id and not caller.owner:
                raise ApiError(403, "Unauthorized to create workspace.")
            if version.org_id not in owner.org_ids:
                raise ApiError(403, "Unauthorized to create workspace.")
            now = self.clock.now()
            lowered = name.lower()
            for workspace in self.workspaces:
                if (
                    workspace.owner_id == owner.id
                    and workspace.name.lower() == lowered
                    and not workspace.gone(now)
                ):
                    raise ApiError(
                        409,
                        f'Workspace "{name}" already exists.',
                        validations=[
                            Validation("name", "This value is already in use and should be unique.")
                        ],
                    )
            task = self._new_task(caller, owner, version.id, version.org_id, version.template_id,
                                  name, display_name, prompt, preset_id)  # fmt: skip
            return self.task_json(task, self.clock.now())

    def _new_task(
        self,
        caller: SimUser,
        owner: SimUser,
        version_id: str,
        org_id: str,
        template_id: str,
        name: str,
        display_name: str,
        prompt: str,
        preset_id: str | None,
    ) -> TaskRecord:
        now = self.clock.now()
        build = self._build(
            1, "start", "initiator", caller, version_id, preset_id,
            fails=parse_directives(prompt).build_fails,
        )  # fmt: skip
        workspace = Workspace(self._uuid(), name, owner.id, org_id, template_id, now, now, [build])
        task = TaskRecord(
            id=self._uuid(),
            name=name,
            display_name=display_name,
            owner_id=owner.id,
            org_id=org_id,
            template_id=template_id,
            template_version_id=version_id,
            initial_prompt=prompt,
            created_at=now,
            workspace=workspace,
        )
        if not build.fails:
            task.agent.receive(self.clock, build.app_healthy_at, prompt)
        self.workspaces.append(workspace)
        self.tasks.append(task)
        return task

    def _build(
        self,
        number: int,
        transition: str,
        reason: str,
        initiator: SimUser,
        version_id: str,
        preset_id: str | None,
        *,
        fails: bool = False,
    ) -> Build:
        ids = (self._uuid(), self._uuid(), self._uuid(), self._uuid())
        return schedule_build(
            self.clock,
            ids=ids,
            number=number,
            transition=transition,
            reason=reason,
            initiator_id=initiator.id,
            template_version_id=version_id,
            preset_id=preset_id,
            fails=fails,
        )

    def _add_build(self, task: TaskRecord, caller: SimUser, transition: str, reason: str) -> Build:
        workspace = task.workspace
        build = self._build(
            workspace.latest.number + 1, transition, reason, caller,
            task.template_version_id, workspace.latest.preset_id,
        )  # fmt: skip
        workspace.builds.append(build)
        workspace.updated_at = build.created_at
        return build

    def delete(self, caller: SimUser, user_ref: str, task_ref: str) -> None:
        """`DELETE`: 409 while a build runs; else a delete build, and the task is gone."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            now = self.clock.now()
            if task.workspace.latest.job_active(now):
                raise ApiError(409, BUILD_ACTIVE)
            self._add_build(task, caller, "delete", "initiator")
            task.agent.cut_future(now)
            task.deleted_at = now

    def _require_active(self, task: TaskRecord, now: float, *, for_logs: bool) -> str:
        status = self.status_of(task, now)
        if status == "active":
            return status
        detail = f'Task status is "{status}", it must be "active" to interact with the task.'
        if not self.version.conflict_for_inactive:
            raise ApiError(400, "Task status must be active.", detail=detail)
        if for_logs and status in ("paused", "pending", "initializing"):
            return status
        if for_logs:
            raise ApiError(409, "Cannot fetch logs for task in current state.")
        if status in ("pending", "initializing"):
            raise ApiError(
                409,
                f"Task is {status}.",
                detail="The task is resuming. Wait for the task to become active before "
                "sending messages.",
            )
        if status == "paused":
            raise ApiError(409, "Task is paused.", detail="Resume the task to send messages.")
        raise ApiError(400, "Task must be active.", detail=detail)

    def send(self, caller: SimUser, user_ref: str, task_ref: str, text: str) -> None:
        """`POST …/send`: the preconditions of CONTRACT 3.1 for the simulated version."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            if not text.strip():
                raise ApiError(400, "Task input is required.")
            now = self.clock.now()
            self._require_active(task, now, for_logs=False)
            if task.agent.is_busy(now):
                raise ApiError(
                    409 if self.version.busy_is_conflict else 502,
                    "Task app is not ready to accept input.",
                    detail="Status: running",
                )
            task.agent.cut_future(now)
            task.agent.receive(self.clock, now, text)

    def logs(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        """`GET …/logs`: live transcript, or (v2.31.1+) the snapshot of a task not running."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            now = self.clock.now()
            status = self._require_active(task, now, for_logs=True)
            if status != "active":
                if task.snapshot is None:
                    return {"logs": [], "snapshot": True}
                entries, taken_at = task.snapshot
                return {"logs": list(entries), "snapshot": True, "snapshot_at": rfc3339(taken_at)}
            return {"logs": _log_entries(task, now)}

    def pause(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        """`POST …/pause` (v2.31.1+): a stop build; the agent leaves a log snapshot."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            now = self.clock.now()
            latest = task.workspace.latest
            if latest.job_active(now):
                raise ApiError(409, BUILD_ACTIVE)
            if latest.transition == "stop":
                raise ApiError(409, "Task is already paused.")
            task.agent.cut_future(now)
            task.snapshot = (tuple(_log_entries(task, now)), now)
            build = self._add_build(task, caller, "stop", "task_manual_pause")
            return {"workspace_build": self._build_json(task, build, caller, now)}

    def resume(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        """`POST …/resume` (v2.31.1+): a start build; the agent comes back idle."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            now = self.clock.now()
            latest = task.workspace.latest
            if latest.job_active(now):
                raise ApiError(409, BUILD_ACTIVE)
            if latest.transition == "start" and not latest.fails:
                raise ApiError(409, "Task workspace is already running.")
            build = self._add_build(task, caller, "start", "task_resume")
            task.agent.report(build.app_healthy_at, "idle", "Ready for input")
            return {"workspace_build": self._build_json(task, build, caller, now)}

    def update_input(self, caller: SimUser, user_ref: str, task_ref: str, text: str) -> None:
        """`PATCH …/input` (GA): only while paused."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            if not text.strip():
                raise ApiError(400, "Task input is required.")
            if self.status_of(task, self.clock.now()) != "paused":
                raise ApiError(409, "Unable to update task input, task must be paused.")
            task.initial_prompt = text

    def _build_json(
        self, task: TaskRecord, build: Build, initiator: SimUser, now: float
    ) -> dict[str, Any]:
        """`codersdk.WorkspaceBuild`, as far as a simulated build has the facts."""
        workspace = task.workspace
        owner = self.directory.user(workspace.owner_id)
        version = self.directory.find_version(build.template_version_id)
        template = self.directory.template(workspace.template_id)
        job_status = build.job_status(now)
        created = rfc3339(build.created_at)
        job: dict[str, Any] = {
            "id": build.job_id,
            "created_at": created,
            "status": job_status,
            "file_id": build.job_id,
            "tags": {"scope": "organization", "owner": ""},
            "queue_position": 0,
            "queue_size": 0,
            "organization_id": workspace.org_id,
            "initiator_id": initiator.id,
            "input": {"workspace_build_id": build.id},
            "type": "workspace_build",
            "available_workers": [],
            "metadata": {
                "template_version_name": version.name if version else "",
                "template_id": template.id,
                "template_name": template.name,
                "template_display_name": template.display_name,
                "template_icon": template.icon,
                "workspace_id": workspace.id,
                "workspace_name": workspace.name,
                "workspace_build_transition": build.transition,
            },
            "logs_overflowed": False,
        }
        body: dict[str, Any] = {
            "id": build.id,
            "created_at": created,
            "updated_at": created,
            "workspace_id": workspace.id,
            "workspace_name": workspace.name,
            "workspace_owner_id": owner.id,
            "workspace_owner_name": owner.username,
            "template_version_id": build.template_version_id,
            "template_version_name": version.name if version else "",
            "build_number": build.number,
            "transition": build.transition,
            "initiator_id": initiator.id,
            "initiator_name": initiator.username,
            "job": job,
            "reason": build.reason,
            "resources": [],
            "status": workspace.status(now),
            "daily_cost": 0,
            "matched_provisioners": {"count": 1, "available": 1},
            "has_ai_task": True,
            "has_external_agent": False,
        }
        if build.preset_id:
            body["template_version_preset_id"] = build.preset_id
        return body


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _bad_param(key: str, subject: str, pronoun: str) -> Validation:
    return Validation(
        key,
        f'Query param "{key}" has invalid value: {subject} either does not exist, '
        f"or you are unauthorized to view {pronoun}",
    )


def _agent_health(lifecycle: str | None) -> dict[str, Any] | None:
    if lifecycle is None:
        return None
    if lifecycle == "created":
        return {"healthy": False, "reason": "agent is not running"}
    return {"healthy": True}


def _log_entries(task: TaskRecord, now: float) -> list[dict[str, Any]]:
    types = {"user": "input", "agent": "output"}
    return [
        {"id": index, "content": m.content, "type": types[m.role], "time": rfc3339(m.at)}
        for index, m in enumerate(task.agent.messages_until(now))
    ]
