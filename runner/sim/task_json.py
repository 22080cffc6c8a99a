"""What a stored task looks like on the wire at an instant: Task, WorkspaceBuild, log entries."""

from __future__ import annotations

from typing import Any

from runner.sim.clock import rfc3339
from runner.sim.directory import Directory, SimUser
from runner.sim.status import derive_status, synthesized_message
from runner.sim.task_record import TaskRecord
from runner.sim.versions import SimVersion
from runner.sim.workspace import Build, Workspace


def task_status(version: SimVersion, task: TaskRecord, now: float) -> str:
    """The task's status at `now` (CONTRACT 2.1), from its latest build."""
    build = task.workspace.latest
    return derive_status(
        version,
        has_workspace=True,
        transition=build.transition,
        job_status=build.job_status(now),
        agent_lifecycle=build.agent_lifecycle(now),
        app_health=build.app_health(now),
    )


def current_state(
    version: SimVersion, task: TaskRecord, now: float, status: str
) -> dict[str, Any] | None:
    """`current_state`: the latest report unless a newer start build hides it; GA synthesises
    one for an `initializing` task only, never for `pending` (CONTRACT 2.2;
    `coderd/aitasks.go` at main a12b0518: `currentState == nil && Status == Initializing`)."""
    build = task.workspace.latest
    reports = task.agent.reports_until(now)
    if reports:
        last = reports[-1]
        # A report older than a newer start build is stale; a stop keeps it visible.
        if not (build.transition == "start" and last.at < build.created_at):
            state = last.state
            if state == "failure" and version.maps_failure_to_failed:
                state = "failed"
            return {
                "timestamp": rfc3339(last.at),
                "state": state,
                "message": last.message,
                "uri": last.uri,
            }
    if version.is_ga and status == "initializing":
        return {
            "timestamp": rfc3339(build.created_at),
            "state": "working",
            "message": synthesized_message(
                build.job_status(now), build.agent_lifecycle(now), build.app_health(now)
            ),
            "uri": "",
        }
    return None


def task_json(
    version: SimVersion, directory: Directory, task: TaskRecord, now: float
) -> dict[str, Any]:
    """`codersdk.Task` in the Go encoder's field order, per the simulated version."""
    owner = directory.user(task.owner_id)
    template = directory.template(task.template_id)
    workspace = task.workspace
    build = workspace.latest
    status = task_status(version, task, now)
    lifecycle = build.agent_lifecycle(now)
    body: dict[str, Any] = {
        "id": task.id,
        "organization_id": task.org_id,
        "owner_id": owner.id,
        "owner_name": owner.username,
        "name": task.name,
    }
    if version.is_ga:
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
            "workspace_agent_health": agent_health(lifecycle),
            "workspace_app_id": build.app_id if lifecycle else None,
            "initial_prompt": task.initial_prompt,
            "status": status,
            "current_state": current_state(version, task, now, status),
            "created_at": rfc3339(task.created_at),
            "updated_at": rfc3339(workspace.updated_at),
        }
    )
    return body


def build_json(
    sim_version: SimVersion,
    directory: Directory,
    task: TaskRecord,
    build: Build,
    initiator: SimUser,
    now: float,
) -> dict[str, Any]:
    """`codersdk.WorkspaceBuild` of a task's workspace, in `sim_version`'s generation."""
    return workspace_build_json(
        directory,
        task.workspace,
        build,
        initiator,
        now,
        with_transition=sim_version.at_least(2, 32),  # new in the v2.32+ line
    )


def workspace_build_json(
    directory: Directory,
    workspace: Workspace,
    build: Build,
    initiator: SimUser,
    now: float,
    *,
    has_ai_task: bool = True,
    with_transition: bool = True,
) -> dict[str, Any]:
    """`codersdk.WorkspaceBuild`, as far as a simulated build has the facts (`omitempty`
    fields left out when empty; `template_version_preset_id` is a pointer without it, so null).
    `with_transition`: the job metadata's `workspace_build_transition` (v2.32+)."""
    owner = directory.user(workspace.owner_id)
    version = directory.find_version(build.template_version_id)
    created = rfc3339(build.created_at)
    job = _provisioner_job_json(directory, workspace, build, initiator, now)
    if with_transition:
        job["metadata"]["workspace_build_transition"] = build.transition
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
        "template_version_preset_id": build.preset_id or None,
    }
    if has_ai_task:
        body["has_ai_task"] = True
    return body


def _provisioner_job_json(
    directory: Directory, workspace: Workspace, build: Build, initiator: SimUser, now: float
) -> dict[str, Any]:
    """The build's `codersdk.ProvisionerJob` (`job`), its metadata naming the template."""
    version = directory.find_version(build.template_version_id)
    template = directory.template(workspace.template_id)
    return {
        "id": build.job_id,
        "created_at": rfc3339(build.created_at),
        "status": build.job_status(now),
        "file_id": build.job_id,
        "tags": {"scope": "organization", "owner": ""},
        "queue_position": 0,
        "queue_size": 0,
        "organization_id": workspace.org_id,
        "initiator_id": initiator.id,
        "input": {"workspace_build_id": build.id},
        "type": "workspace_build",
        "metadata": {
            "template_version_name": version.name if version else "",
            "template_id": template.id,
            "template_name": template.name,
            "template_display_name": template.display_name,
            "template_icon": template.icon,
            "workspace_id": workspace.id,
            "workspace_name": workspace.name,
        },
        "logs_overflowed": False,
    }


def agent_health(lifecycle: str | None) -> dict[str, Any] | None:
    """`workspace_agent_health` for a lifecycle state (null without an agent)."""
    if lifecycle is None:
        return None
    if lifecycle == "created":
        return {"healthy": False, "reason": "agent is not running"}
    return {"healthy": True}


def log_entries(task: TaskRecord, now: float) -> list[dict[str, Any]]:
    """The transcript until `now` as `TaskLogEntry` objects: user -> input, agent -> output."""
    types = {"user": "input", "agent": "output"}
    return [
        {"id": index, "content": m.content, "type": types[m.role], "time": rfc3339(m.at)}
        for index, m in enumerate(task.agent.messages_until(now))
    ]
