"""Follow-ups: wait for the agent to be idle, send the next one, and on to the wait once every
one is delivered (`after_follow_ups`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import (
    AgentBusyError,
    ApiError,
    DeliveryUnverifiedError,
    ServerError,
    TransportError,
    UncertainOutcomeError,
)
from runner.execute import ending, record
from runner.execute.requests import NotYet, Op, Reply, Sent, send_op
from runner.execute.results import Outcome
from runner.execute.state import FollowingUp, SentMark, Step, Waiting, Watch
from runner.item import Item
from runner.manifest.model import DesiredTask
from runner.readiness import Readiness

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def start_send(run: TaskRun, state: FollowingUp, task: Item, desired: DesiredTask) -> Op:
    """The next follow-up's send (its log read first); a run that lost the race only reads."""
    run.go(FollowingUp(Step.SEND_ASKED, state.watch))
    sends = not run.progress.observer
    delivered = run.progress.delivered
    return send_op(run.backend, task, desired, delivered, sends=sends, retry=run.retry)


def finish_send(
    run: TaskRun, state: FollowingUp, reply: Reply | None, error: BaseException | None, now: float
) -> None:
    if error is None and isinstance(reply, Sent):
        _sent(run, state.watch, reply, now)
        return
    if error is None and isinstance(reply, NotYet):
        settle(run, state.watch)  # the run that made the kept chat sends it
        return
    if isinstance(error, AgentBusyError):
        record.event(run, "agent busy; waiting for it to be idle")
        settle(run, state.watch)
    elif isinstance(error, (UncertainOutcomeError, ServerError)):
        # The next attempt reads the logs first, so a send that landed is not repeated.
        record.event(run, f"send outcome unknown ({ending.reason(error)}); checking the logs")
        run.retry_later(now)
        run.go(FollowingUp(Step.SEND, state.watch))
    elif isinstance(error, (ApiError, TransportError, DeliveryUnverifiedError)):
        record.event(run, f"cannot send yet ({ending.reason(error)}); waiting")
        settle(run, state.watch)
    else:
        ending.fail(run, error, now)


def _sent(run: TaskRun, watch: Watch, sent: Sent, now: float) -> None:
    count = sent.count
    if sent.already_delivered:
        record.delivered_already(run, count)
        delivered = max(run.progress.delivered, count)
        run.update(replace(run.progress, delivered=delivered))
    else:
        # A new turn: it may wait for a capacity slot again (hold.py).
        run.update(replace(run.progress, delivered=count, hold=run.progress.hold.turn(now)))
        record.follow_up_sent(run, count)
        if run.task is not None:
            watch = replace(watch, sent=SentMark.of(run.task, now))
    if run.follow_ups_left():
        settle(run, watch)
    else:
        run.reset_tracker()
        after_follow_ups(run, watch, now)


def settle(run: TaskRun, watch: Watch) -> None:
    """Wait for the agent to be idle (again) before the next send."""
    run.reset_tracker()
    run.go(FollowingUp(Step.SETTLE, watch))


def after_follow_ups(run: TaskRun, watch: Watch, now: float) -> None:
    """Every follow-up delivered: end, when nothing is to be waited for, or wait."""
    created_alone = run.progress.confirmed or not run.progress.created_id
    if run.wait_mode() == "none" and created_alone:
        ending.end(run, Outcome.OK, now)
    else:
        run.go(Waiting(Step.WAIT, watch))


def observe_for_send(
    run: TaskRun, state: FollowingUp, watch: Watch, readiness: Readiness, task: Item, now: float
) -> None:
    """What a poll of a task with follow-ups left decides."""
    if readiness is Readiness.FAILED:
        ending.end(
            run,
            Outcome.FAILED,
            now,
            error=f"the agent reported failure before all follow-ups: {task.message}".strip(),
        )
    elif state.step is Step.RESUME_TO_SEND:
        run.go(replace(state, watch=watch))  # the resume goes out first, whatever it shows
    elif readiness in (Readiness.IDLE, Readiness.COMPLETE):
        run.go(FollowingUp(Step.SEND, watch))
    else:
        run.go(FollowingUp(Step.SETTLE, watch))
