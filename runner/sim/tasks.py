"""The task store and every task operation, following CONTRACT sections 1 to 4.

Operations take the authenticated caller and already-decoded arguments and return JSON-ready
values or raise `ApiError`; HTTP lives elsewhere. One lock guards the whole store.
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from typing import Any

from runner.sim.apierror import ApiError, Validation, not_found
from runner.sim.clock import SimClock, rfc3339
from runner.sim.directives import parse_directives, turn_behaviour
from runner.sim.directory import Directory, SimUser
from runner.sim.names import display_name_from_prompt, fallback_name, name_from_prompt, name_problem
from runner.sim.search import parse_search
from runner.sim.snapshot import capped_snapshot
from runner.sim.task_json import build_json, log_entries, task_json, task_status
from runner.sim.task_record import TaskRecord, is_uuid
from runner.sim.versions import SimVersion
from runner.sim.workspace import Build, Workspace, schedule_build

TASK_STATUSES = ("pending", "initializing", "active", "paused", "unknown", "error")
BUILD_ACTIVE = "A workspace build is already active."


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
        #: Turns the agent has taken on each owner's work from a prompt (`[sim:turns=…]`).
        self.turns_taken: dict[tuple[str, str], int] = {}
        self._pull_requests = itertools.count(101)  # numbers of the agents' pull requests

    def _json(self, task: TaskRecord, now: float) -> dict[str, Any]:
        return task_json(self.version, self.directory, task, now)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # Users ------------------------------------------------------------------------------

    def resolve_user(self, caller: SimUser, ref: str) -> SimUser:
        """The `{user}` path segment: `me`, a username or a UUID (no emails)."""
        if ref == "me":
            return caller
        user = self.directory.find_user(ref)
        if user is None and self.version.unknown_user_not_found:
            raise not_found()  # `httpmw/userparam.go` from v2.31.1
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
        self._autopause(self.clock.now())
        return [t for t in self.tasks if t.deleted_at is None and self._can_read(caller, t)]

    def _autopause(self, now: float) -> None:
        """The lifecycle executor: stop the workspaces whose TTL ran out (`[sim:autopause=N]`),
        at the instant it ran out, unless the agent is busy then or the workspace is not up."""
        for task in self.tasks:
            at = task.autopause_at
            if at is None or at > now or task.deleted_at is not None:
                continue
            task.autopause_at = None
            latest = task.workspace.latest
            if latest.transition != "start" or latest.job_status(at) != "succeeded":
                continue
            if task.agent.is_busy(at):
                continue
            reason = "task_auto_pause" if self.version.has_pause else "autostop"
            owner = self.directory.user(task.owner_id)
            task.agent.cut_future(at)
            _take_snapshot(task, at)
            self._add_build(task, owner, "stop", reason, at=at)

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
            if user is None and is_uuid(value):
                # A UUID filters as given, known or not (`coderd/searchquery/search.go`
                # `parseUser` at main a12b0518): an unknown one matches no task.
                owner_id = value.lower()
            elif user is None or not self.directory.can_see_user(caller, user):
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
            tasks = [self._json(t, now) for t in found]
        if status is not None:
            tasks = [t for t in tasks if t["status"] == status]
        return {"tasks": tasks, "count": len(tasks)}

    def get(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        with self.lock:
            return self._json(self.find(caller, user_ref, task_ref), self.clock.now())

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
            display_name = self._display_name(body, prompt)
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
                # `coderd/aitasks.go` (createTask) at main a12b0518: the owner's membership
                # of the version's organization is looked up; none is a plain 404.
                raise not_found()
            self._check_name_free(owner, name)
            task = self._new_task(caller, owner, version.id, version.org_id, version.template_id,
                                  name, display_name, prompt, preset_id)  # fmt: skip
            return self._json(task, self.clock.now())

    def _display_name(self, body: dict[str, Any], prompt: str) -> str:
        """GA servers (v2.29+) take a display name of at most 64 characters, or make one from
        the prompt; the experimental API has none."""
        if not self.version.is_ga:
            return ""
        display_name = _text(body.get("display_name")).strip()
        if len(display_name) > 64:
            raise ApiError(400, "Display name must be 64 characters or less.")
        return display_name or display_name_from_prompt(prompt)

    def _check_name_free(self, owner: SimUser, name: str) -> None:
        """A task's workspace takes its name: a live workspace of the owner's with that name
        (case-insensitively) is a 409."""
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
            task.agent.receive(
                self.clock, build.app_healthy_at, prompt, self._turn(task), self._pull_request
            )
            autopause = parse_directives(prompt).autopause_seconds
            if autopause is not None:
                quiet_at = max(m.at for m in task.agent.messages)
                task.autopause_at = quiet_at + self.clock.span(autopause)
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
        at: float | None = None,
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
            at=at,
        )

    def _add_build(
        self,
        task: TaskRecord,
        caller: SimUser,
        transition: str,
        reason: str,
        *,
        at: float | None = None,
    ) -> Build:
        workspace = task.workspace
        build = self._build(
            workspace.latest.number + 1, transition, reason, caller,
            task.template_version_id, workspace.latest.preset_id, at=at,
        )  # fmt: skip
        workspace.builds.append(build)
        workspace.updated_at = build.created_at
        return build

    def delete(self, caller: SimUser, user_ref: str, task_ref: str) -> None:
        """`DELETE`: 409 while a build runs; else a delete build, and the task is gone."""
        with self.lock:
            task, now = self._between_builds(caller, user_ref, task_ref)
            self._add_build(task, caller, "delete", "initiator")
            task.agent.cut_future(now)
            task.deleted_at = now

    def _require_active(self, task: TaskRecord, now: float, *, for_logs: bool) -> str:
        status = task_status(self.version, task, now)
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
            if not text:
                # Only the empty string (`coderd/aitasks.go` taskSend at main a12b0518:
                # `req.Input == ""`); whitespace is sent on as it is.
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
            task.agent.receive(self.clock, now, text, self._turn(task), self._pull_request)

    def _pull_request(self) -> int:
        return next(self._pull_requests)

    def _turn(self, task: TaskRecord) -> str:
        """How the agent's next turn on `task` ends: its owner's work from that prompt is
        scripted across every task made from it (`[sim:turns=…]`, runner/sim/directives.py)."""
        key = (task.owner_id, task.initial_prompt)
        turn = self.turns_taken.get(key, 0)
        self.turns_taken[key] = turn + 1
        return turn_behaviour(task.initial_prompt, turn)

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
            return {"logs": log_entries(task, now)}

    def pause(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        """`POST …/pause` (v2.31.1+): a stop build; the agent leaves a log snapshot."""
        with self.lock:
            task, now = self._between_builds(caller, user_ref, task_ref)
            # A stopped workspace gets another stop build: the server accepts it
            # (`coderd/aitasks.go` pauseTask at main a12b0518 has no status check; the
            # "already paused" refusal is the CLI's own). Its agent is gone: no new snapshot.
            if task.workspace.latest.transition == "start":
                task.agent.cut_future(now)
                _take_snapshot(task, now)
            build = self._add_build(task, caller, "stop", "task_manual_pause")
            return self._build_answer(task, build, caller, now)

    def resume(self, caller: SimUser, user_ref: str, task_ref: str) -> dict[str, Any]:
        """`POST …/resume` (v2.31.1+): a start build; the agent comes back idle."""
        with self.lock:
            task, now = self._between_builds(caller, user_ref, task_ref)
            latest = task.workspace.latest
            if latest.transition == "start" and not latest.fails:
                raise ApiError(409, "Task workspace is already running.")
            build = self._add_build(task, caller, "start", "task_resume")
            task.agent.report(build.app_healthy_at, "idle", "Ready for input")
            return self._build_answer(task, build, caller, now)

    def _between_builds(
        self, caller: SimUser, user_ref: str, task_ref: str
    ) -> tuple[TaskRecord, float]:
        """The task and the time, once no build of its workspace runs (else 409): delete, pause
        and resume each start a build. Call with the lock held."""
        task = self.find(caller, user_ref, task_ref)
        now = self.clock.now()
        if task.workspace.latest.job_active(now):
            raise ApiError(409, BUILD_ACTIVE)
        return task, now

    def _build_answer(
        self, task: TaskRecord, build: Build, caller: SimUser, now: float
    ) -> dict[str, Any]:
        """Pause's and resume's answer (CONTRACT.md section 1, `POST …/pause` and `…/resume`)."""
        return {
            "workspace_build": build_json(self.version, self.directory, task, build, caller, now)
        }

    def update_input(self, caller: SimUser, user_ref: str, task_ref: str, text: str) -> None:
        """`PATCH …/input` (GA): only while paused."""
        with self.lock:
            task = self.find(caller, user_ref, task_ref)
            if not text.strip():
                raise ApiError(400, "Task input is required.")
            if task_status(self.version, task, self.clock.now()) != "paused":
                raise ApiError(409, "Unable to update task input, task must be paused.")
            task.initial_prompt = text


def _take_snapshot(task: TaskRecord, at: float) -> None:
    """The agent's log snapshot upload as its workspace stops (capped at 64 KiB; may fail)."""
    if not parse_directives(task.initial_prompt).no_snapshot:
        task.snapshot = (capped_snapshot(log_entries(task, at)), at)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _bad_param(key: str, subject: str, pronoun: str) -> Validation:
    return Validation(
        key,
        f'Query param "{key}" has invalid value: {subject} either does not exist, '
        f"or you are unauthorized to view {pronoun}",
    )
