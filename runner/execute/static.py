"""Actions with nothing to run: whether one still has a wait to do, else its result as it is."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from runner.execute.results import Outcome, TaskResult
from runner.item import Item
from runner.plan import Action, ActionKind
from runner.readiness import reached

if TYPE_CHECKING:
    from runner.backends import Backend


def still_to_wait_for(action: Action, task: Item | None, no_state_after: float) -> bool:
    """True for a task with nothing to change whose agent has not yet done what `wait` asks.

    A re-run after a timeout, or while agents still work, waits for them as the first run
    would have, and reports a failed agent as failed, rather than calling them unchanged. A
    paused task is left paused, and an archived chat archived (`after:` set them aside, done):
    nothing in the plan asks to resume them. An active task whose agent never reports a state
    counts as idle once it is older than `no_state_after`.
    """
    desired = action.desired
    if action.kind is not ActionKind.NOOP or desired is None or task is None:
        return False
    if desired.wait == "none" or task.status in ("paused", "archived"):
        return False
    silent_for = None
    if task.created_at is not None:
        silent_for = (datetime.now(timezone.utc) - task.created_at).total_seconds()
    return not reached(task, desired.wait, silent_for, no_state_after)


def static_result(
    backend: Backend, action: Action, task: Item | None, dashboard_url: str, model: str
) -> TaskResult:
    """The result of an action with nothing to run, built once from what was observed."""
    outcome = {
        ActionKind.NOOP: Outcome.UNCHANGED,
        ActionKind.DRIFT: Outcome.DRIFTED,
        ActionKind.CONFLICT: Outcome.BLOCKED,
    }[action.kind]
    link = ""
    if task is not None and dashboard_url:
        link = f"{dashboard_url.rstrip('/')}{backend.dashboard_path(task)}"
    return TaskResult(
        name=action.name,
        owner=action.owner,
        coder_name=action.coder_name,
        action=action.kind.value,
        task_id=action.task_id,
        outcome=outcome,
        error="; ".join(action.reasons),
        status=task.status if task else "",
        state=task.state if task else "",
        message=task.message if task else "",
        link=link,
        model=model,
    )
