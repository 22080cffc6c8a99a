"""Task status derivation, a pure function of build, agent and app state (CONTRACT 2.1).

Coder computes `status` in the `tasks_with_status` view; the v2.28 rules and the GA rules differ
in the order of checks and in a few results, so both are kept here side by side.
"""

from __future__ import annotations

from typing import NamedTuple

from runner.sim.versions import SimVersion

_STARTING_AGENT = (None, "created", "starting")
_STOP_LIKE = ("stop", "delete")
# App health → status, the same in both generations once the agent is up (CONTRACT 2.1).
_APP_STATUS = {
    "initializing": "initializing",
    "unhealthy": "error",
    "healthy": "active",
    "disabled": "active",
}


class _States(NamedTuple):
    """What a status derives from: the latest build, its agent's lifecycle and the app's health."""

    has_workspace: bool
    transition: str | None
    job: str | None
    agent: str | None
    app: str | None


def derive_status(
    version: SimVersion,
    *,
    has_workspace: bool,
    transition: str | None,
    job_status: str | None,
    agent_lifecycle: str | None,
    app_health: str | None,
) -> str:
    """The TaskStatus Coder `version` reports for this combination of states."""
    states = _States(has_workspace, transition, job_status, agent_lifecycle, app_health)
    return _derive_ga(version, states) if version.is_ga else _derive_v228(states)


def _derive_v228(states: _States) -> str:
    has_workspace, transition, job, agent, app = states
    if not has_workspace or job is None:
        return "pending"
    if job == "failed":
        return "error"
    if transition in _STOP_LIKE and job == "succeeded":
        return "paused"
    if transition == "start" and job == "pending":
        return "initializing"
    if transition == "start" and job in ("running", "succeeded"):
        if agent in _STARTING_AGENT:
            return "initializing"
        if agent == "ready":
            return _APP_STATUS.get(app or "", "unknown")
        return "unknown"
    return "unknown"


def _derive_ga(version: SimVersion, states: _States) -> str:
    has_workspace, transition, job, agent, app = states
    if not has_workspace:
        return "pending"
    # Build status: a result other than None ends the derivation.
    if job is None:
        return "pending"
    if job in ("failed", "canceling", "canceled"):
        return "error"
    if transition in _STOP_LIKE and job == "succeeded":
        return "paused"
    if transition == "start" and job == "pending":
        return "pending" if version.pending_start_is_pending else "initializing"
    if not (transition == "start" and job in ("running", "succeeded")):
        return "unknown"
    # Agent status.
    if agent in _STARTING_AGENT:
        return "initializing"
    if agent not in ("ready", "start_timeout", "start_error"):
        return "unknown"
    # App status.
    return _APP_STATUS.get(app or "", "unknown")


def synthesized_message(
    job_status: str | None, agent_lifecycle: str | None, app_health: str | None
) -> str:
    """GA's `current_state.message` for a task that is still coming up and has no report."""
    if job_status == "pending":
        return "Workspace is pending"
    if job_status == "running":
        return "Workspace is starting"
    if agent_lifecycle == "created":
        return "Agent is connecting"
    if agent_lifecycle == "starting":
        return "Agent is starting"
    if app_health == "initializing":
        return "App is initializing"
    if agent_lifecycle is None:
        return "Initializing workspace agent"
    if app_health is None:
        return "Initializing workspace applications"
    return "Initializing workspace"


def workspace_status(transition: str, job_status: str) -> str:
    """`workspace_status` from the latest build's transition and job status."""
    if job_status == "pending":
        return "pending"
    if job_status in ("failed", "canceling", "canceled"):
        return job_status
    in_progress = {"start": "starting", "stop": "stopping", "delete": "deleting"}
    done = {"start": "running", "stop": "stopped", "delete": "deleted"}
    return (in_progress if job_status == "running" else done)[transition]
