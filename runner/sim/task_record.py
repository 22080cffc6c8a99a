"""A task as the simulator stores it: the task row, its workspace, its agent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from runner.sim.agent import Agent
from runner.sim.workspace import Workspace


@dataclass
class TaskRecord:
    """One task row; `deleted_at` marks a soft delete, `snapshot` the logs left at a pause."""

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
    autopause_at: float | None = None  # when the workspace TTL stops it (once)


def is_uuid(text: str) -> bool:
    """Whether a path segment is a UUID in its canonical 36-character form."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36
