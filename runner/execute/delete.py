"""Deleting a task: a prune's delete, or the old task of a replace (then created anew)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ConflictError, NotFoundError, ServerError, TransportError
from runner.execute import ending, record, timeout
from runner.execute.requests import Op, delete_op
from runner.execute.results import Outcome
from runner.execute.state import Creating, Deleting, Step
from runner.item import Item
from runner.plan import ActionKind
from runner.readiness import ARCHIVE_RETRY_SECONDS

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def start_delete(run: TaskRun, task: Item) -> Op:
    run.go(Deleting(Step.DELETE_ASKED))
    return delete_op(run.backend, task)


def finish_delete(run: TaskRun, error: BaseException | None, now: float) -> None:
    if error is None or isinstance(error, NotFoundError):
        what = "deleted" if error is None else "already gone"
        replaced = run.action.kind is ActionKind.REPLACE
        record.task_gone(run, what, replaced=replaced)
        if replaced:
            run.go(Creating())
            run.update(replace(run.progress, task=None))
        else:
            ending.end(run, Outcome.DELETED, now, note="" if error is None else what)
        return
    if run.backend.retire_refused_for_now(error):
        # Coder still interrupts the chat (v2.35+, CHATS-CONTRACT 7.2): ask again shortly, a
        # step of the run, so no worker waits; the delete's timeout bounds it (race.py alike).
        timeout.begin_wait(run, now)
        run.update(replace(run.progress, not_before=now + ARCHIVE_RETRY_SECONDS))
        run.go(Deleting())
        return
    if isinstance(error, (ConflictError, ServerError, TransportError)):
        # A build is still running (e.g. right after create): try again shortly.
        timeout.begin_wait(run, now)
        run.retry_later(now)
        run.go(Deleting())
        record.event(run, f"delete not accepted yet ({ending.reason(error)}); retrying")
        return
    ending.fail(run, error, now)
