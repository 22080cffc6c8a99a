"""The engine's limits for one apply: parallelism, the poll interval and the lost-contact window,
from the flags and, where they say nothing, the manifest."""

from __future__ import annotations

from dataclasses import dataclass

from runner import defaults
from runner.plan import Plan


@dataclass(frozen=True)
class Limits:
    parallelism: int
    poll: float
    lost_contact_after: float
    progress_every: float


def poll_interval(plan: Plan) -> float:
    """The most frequent poll any task asks for: one list serves every task."""
    intervals = [a.desired.poll_interval_seconds for a in plan.actions if a.desired]
    return min(intervals) if intervals else defaults.POLL_INTERVAL_SECONDS


def lost_contact_after(plan: Plan) -> float:
    """The most patient task's grace: the run stops only when every task would."""
    graces = [a.desired.lost_contact_after_seconds for a in plan.actions if a.desired]
    return max(graces) if graces else defaults.LOST_CONTACT_AFTER_SECONDS
