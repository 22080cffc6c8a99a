"""How often a run polls, and how long it may lose contact, from its plan's tasks."""

from __future__ import annotations

from runner import defaults
from runner.plan import Plan


def poll_interval(plan: Plan) -> float:
    """The shortest poll interval of the plan's tasks."""
    intervals = [a.desired.poll_interval_seconds for a in plan.actions if a.desired]
    return min(intervals) if intervals else defaults.POLL_INTERVAL_SECONDS


def lost_contact_after(plan: Plan) -> float:
    """The most patient task's grace: the run stops only when every task would."""
    graces = [a.desired.lost_contact_after_seconds for a in plan.actions if a.desired]
    return max(graces) if graces else defaults.LOST_CONTACT_AFTER_SECONDS
