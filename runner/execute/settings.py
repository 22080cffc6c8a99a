"""What the engine runs by: the command line's settings, and the intervals a plan asks for."""

from __future__ import annotations

from dataclasses import dataclass

from runner import defaults
from runner.plan import Plan
from runner.readiness import SYSTEM_CLOCK, Clock

#: Default parallel requests. It bounds the load, not the rate: Coder's rate limit is kept by
#: pacing on its rate-limit headers (runner/coder/pacing.py).
DEFAULT_PARALLELISM = defaults.PARALLELISM


@dataclass(frozen=True)
class ExecuteSettings:
    """Flags that override the manifest, and the engine's limits."""

    parallelism: int = DEFAULT_PARALLELISM
    poll_interval: float | None = None
    idle_grace: float | None = None
    no_state_after: float = defaults.NO_STATE_IDLE_AFTER_SECONDS
    #: How long a task may stay in status error/unknown before it counts as failed.
    broken_after: float = defaults.BROKEN_AFTER_SECONDS
    #: How long polls may fail in a row before the run stops (overrides the manifest).
    lost_contact_after: float | None = None
    #: At most this many of the batch's tasks work at once (None: no bound).
    max_running: int | None = None
    #: US dollar micros the batch may spend (None: no budget); see runner/execute/admission.py.
    budget_micros: int | None = None
    #: The one clock of the run: each step's `now` and the pauses between steps (tests step it).
    clock: Clock = SYSTEM_CLOCK


@dataclass(frozen=True)
class Limits:
    """The engine's bounds and intervals for one run of a plan."""

    parallelism: int
    poll: float
    lost_contact_after: float
    progress_every: float

    @classmethod
    def of(cls, settings: ExecuteSettings, plan: Plan, poll: float) -> Limits:
        """The flags' bounds, else what the plan's tasks ask for."""
        return cls(
            parallelism=max(1, settings.parallelism),
            poll=poll,
            lost_contact_after=settings.lost_contact_after or lost_contact_after(plan),
            progress_every=poll * defaults.PROGRESS_EVERY_POLLS,
        )


def poll_interval(plan: Plan) -> float:
    """The most frequent task's poll interval: one list a poll serves every task."""
    intervals = [a.desired.poll_interval_seconds for a in plan.actions if a.desired]
    return min(intervals) if intervals else defaults.POLL_INTERVAL_SECONDS


def lost_contact_after(plan: Plan) -> float:
    """The most patient task's grace: the run stops only when every task would."""
    graces = [a.desired.lost_contact_after_seconds for a in plan.actions if a.desired]
    return max(graces) if graces else defaults.LOST_CONTACT_AFTER_SECONDS
