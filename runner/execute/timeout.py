"""A run's timeout: its deadline, set once when its wait begins and checked as time passes.

A run has one time limit, the task's `timeout` (a prune delete's is fixed), counted from the first
moment it waits on the deployment, less the time its chat waited for a capacity slot (hold.py);
what it was still waiting for is the timeout's error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.execute import ending, record
from runner.execute.results import Outcome
from runner.execute.state import FollowingUp, Phase, Waiting
from runner.item import Item

if TYPE_CHECKING:
    from runner.execute.run import TaskRun

#: Waiting budget for a prune delete (no manifest entry gives it a timeout).
DELETE_TIMEOUT_SECONDS = 600.0


def begin_wait(run: TaskRun, now: float) -> None:
    """Start the run's clock, if it has not started yet."""
    if run.progress.deadline is None:
        timeout = run.desired.timeout_seconds if run.desired else DELETE_TIMEOUT_SECONDS
        hold = run.progress.hold.turn(now)
        run.update(replace(run.progress, deadline=now + timeout, hold=hold))
        record.wait_started(run)


def capacity_seen(run: TaskRun, task: Item, now: float) -> None:
    """A poll's word on whether the run's chat waits for a capacity slot; said once a turn."""
    before = run.progress.hold
    hold = before.seen(task.queued_for_capacity, now)
    if before.since is None and hold.since is not None:
        record.event(run, "queued for capacity: its timeout waits until the agent starts on it")
    run.update(replace(run.progress, hold=hold))


def check_deadline(run: TaskRun, now: float) -> None:
    """End the run with a timeout once its wait has run past its deadline. Not while a request
    is on the wire: its answer comes first."""
    due = run.progress.deadline
    if run.state.step.concluded or run.state.step.asked or due is None:
        return
    if now < run.progress.hold.deadline(due, now):
        return
    ending.end(run, Outcome.TIMEOUT, now, error=f"timed out: {_waiting_for(run)}")


def _waiting_for(run: TaskRun) -> str:
    state = run.state
    what = {
        Phase.DELETE: "the delete was still refused",
        Phase.CREATE: f"the name {run.action.coder_name!r} was still taken (by a workspace "
        "being deleted, or one that is not a task of this batch)",
        Phase.ADOPT: "the create could not be confirmed",
        Phase.RETIRE: "the duplicate created could not be archived",
        Phase.FOLLOW_UPS: f"{run.follow_ups_left()} follow-up(s) not yet delivered",
        Phase.WAIT: f"the agent was not {run.wait_mode()}",
    }[state.step.phase]
    if isinstance(state, (FollowingUp, Waiting)) and state.watch.broken_since is not None:
        what += f" (task status {run.result.status})"
    return what
