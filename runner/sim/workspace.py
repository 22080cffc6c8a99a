"""Workspaces and their builds, with every state read off timestamps (no background threads).

A start build's job is pending for a second, runs for three, then succeeds (or fails); the agent
then connects (`created`), runs its startup (`starting`), turns `ready`, and the task app goes
from `initializing` to `healthy`. Durations are simulated seconds, scaled by the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.sim.clock import SimClock
from runner.sim.status import workspace_status

#: Simulated seconds each phase takes, per build transition: (job pending, job running).
JOB_PHASES = {"start": (1.0, 3.0), "stop": (0.5, 1.0), "delete": (0.5, 1.5)}
AGENT_CONNECTS_AFTER = 0.5  # job done -> agent `starting`
AGENT_READY_AFTER = 2.0  # job done -> agent `ready`
APP_HEALTHY_AFTER = 3.0  # job done -> app `healthy`


@dataclass
class Build:
    """One workspace build and its provisioner job's schedule (Unix seconds)."""

    id: str
    job_id: str
    number: int
    transition: str  # start | stop | delete
    reason: str
    initiator_id: str
    template_version_id: str
    preset_id: str | None
    created_at: float
    started_at: float
    done_at: float
    fails: bool
    agent_id: str
    app_id: str
    agent_starting_at: float = 0.0
    agent_ready_at: float = 0.0
    app_healthy_at: float = 0.0

    def job_status(self, now: float) -> str:
        if now < self.started_at:
            return "pending"
        if now < self.done_at:
            return "running"
        return "failed" if self.fails else "succeeded"

    def job_active(self, now: float) -> bool:
        return self.job_status(now) in ("pending", "running")

    def has_agent(self, now: float) -> bool:
        """The agent and app are linked to a start build once its job succeeded."""
        return self.transition == "start" and self.job_status(now) == "succeeded"

    def agent_lifecycle(self, now: float) -> str | None:
        if not self.has_agent(now):
            return None
        if now < self.agent_starting_at:
            return "created"
        if now < self.agent_ready_at:
            return "starting"
        return "ready"

    def app_health(self, now: float) -> str | None:
        if not self.has_agent(now):
            return None
        return "healthy" if now >= self.app_healthy_at else "initializing"


def schedule_build(
    clock: SimClock,
    *,
    ids: tuple[str, str, str, str],
    number: int,
    transition: str,
    reason: str,
    initiator_id: str,
    template_version_id: str,
    preset_id: str | None,
    fails: bool = False,
    at: float | None = None,
) -> Build:
    """A build created now (or `at`), with its job and (for a start) its agent timeline."""
    now = clock.now() if at is None else at
    pending, running = JOB_PHASES[transition]
    started = now + clock.span(pending)
    done = started + clock.span(running)
    build_id, job_id, agent_id, app_id = ids
    return Build(
        id=build_id,
        job_id=job_id,
        number=number,
        transition=transition,
        reason=reason,
        initiator_id=initiator_id,
        template_version_id=template_version_id,
        preset_id=preset_id,
        created_at=now,
        started_at=started,
        done_at=done,
        fails=fails,
        agent_id=agent_id,
        app_id=app_id,
        agent_starting_at=done + clock.span(AGENT_CONNECTS_AFTER),
        agent_ready_at=done + clock.span(AGENT_READY_AFTER),
        app_healthy_at=done + clock.span(APP_HEALTHY_AFTER),
    )


@dataclass
class Workspace:
    id: str
    name: str
    owner_id: str
    org_id: str
    template_id: str
    created_at: float
    updated_at: float
    builds: list[Build] = field(default_factory=list)

    @property
    def latest(self) -> Build:
        return self.builds[-1]

    def gone(self, now: float) -> bool:
        """Deleted for good: its delete build finished, so its name is free again."""
        latest = self.latest
        return latest.transition == "delete" and latest.job_status(now) == "succeeded"

    def status(self, now: float) -> str:
        return workspace_status(self.latest.transition, self.latest.job_status(now))
