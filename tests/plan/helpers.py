"""Contract-shaped task objects and observations for planner tests (no HTTP)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from runner import ownership
from runner.backends.tasks import as_item
from runner.coder.models import Task, User
from runner.item import Item
from runner.manifest.model import Batch, DesiredTask
from runner.observation import Observation, ObservedTask

ME = User(id="5e6d0000-0000-4000-8000-000000000001", username="alice")


def task_json(
    name: str,
    prompt: str,
    *,
    owner: str = "alice",
    display_name: str | None = None,
    template: str = "claude-code",
    version_id: str = "v-1",
    ga: bool = True,
) -> dict[str, Any]:
    """A task as the list endpoint returns it (CONTRACT.md 1.1)."""
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "organization_id": "org-1",
        "owner_id": ME.id if owner == "alice" else str(uuid.uuid4()),
        "owner_name": owner,
        "name": name,
        "template_id": "tpl-1",
        "template_version_id": version_id,
        "template_name": template,
        "template_display_name": "Claude Code",
        "template_icon": "",
        "workspace_id": str(uuid.uuid4()),
        "workspace_name": name,
        "workspace_status": "running",
        "workspace_build_number": 1,
        "workspace_agent_id": None,
        "workspace_agent_lifecycle": "ready",
        "workspace_agent_health": {"healthy": True},
        "workspace_app_id": None,
        "initial_prompt": prompt,
        "status": "active",
        "current_state": {
            "timestamp": "2026-01-01T00:00:00Z",
            "state": "idle",
            "message": "",
            "uri": "",
        },
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    if ga:
        data["display_name"] = display_name if display_name is not None else name
    return data


def owned_task(batch: str, name: str, prompt: str, *, ga: bool = True, **kw: Any) -> Task:
    """A task this batch created: marked name and (GA) display name."""
    return Task.from_json(
        task_json(
            ownership.coder_name(batch, name),
            prompt,
            display_name=ownership.display_name(batch, name),
            ga=ga,
            **kw,
        )
    )


def desired(batch: str, name: str, prompt: str, **kw: Any) -> DesiredTask:
    return DesiredTask(batch=batch, name=name, prompt=prompt, template="claude-code", **kw)


def make_batch(name: str, *tasks: DesiredTask) -> Batch:
    return Batch(name, tuple(tasks), "batch.tasks.yaml")


def item(task: Task | Item, *, ga: bool = True) -> Item:
    """`task` as the Tasks backend lists it (GA servers have display names, v2.28 none)."""
    return task if isinstance(task, Item) else as_item(task, display_names=ga)


def observed(entry: Task | Item | ObservedTask, *, ga: bool = True) -> ObservedTask:
    if isinstance(entry, ObservedTask):
        return replace(entry, task=item(entry.task, ga=ga))
    return ObservedTask(item(entry, ga=ga))


def observation(
    *tasks: Task | Item | ObservedTask, ga: bool = True, all_visible: bool = False
) -> Observation:
    items = tuple(observed(t, ga=ga) for t in tasks)
    return Observation(ME, items, server_version="v2.34.2", all_visible=all_visible)
