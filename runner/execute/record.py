"""What a run writes to its TaskResult while it runs, and the progress events it emits.

The result is the row the live display and the reports show (live output keys its rows by the
result object), so it is one object updated here, not rebuilt; ending.py writes its outcome.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.execute.results import Event
from runner.item import Item

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def started(run: TaskRun) -> None:
    run.result.started_at = run.result.started_at or time.time()  # a retry keeps the first


def wait_started(run: TaskRun) -> None:
    run.result.wait_started_at = time.time()


def task_seen(run: TaskRun, task: Item) -> None:
    """What a create, an adoption or a poll showed of the task; a status line if it changed."""
    result = run.result
    changed = (result.status, result.state) != (task.status, task.state)
    result.task_id = task.id
    result.status = task.status
    result.state = task.state
    result.message = task.message
    if changed and result.started_at is not None:
        run.emit(Event(result, task.message, status_only=True))
    if run.settings.dashboard_url and task.id:
        if not task.owner_name:
            task = replace(task, owner_name=run.action.owner)
        path = run.backend.dashboard_path(task)
        result.link = f"{run.settings.dashboard_url.rstrip('/')}{path}"


def task_gone(run: TaskRun, what: str, *, replaced: bool) -> None:
    """The task was deleted: a replace creates another; a delete's final line says `what`."""
    if replaced:
        note(run, what)
        run.result.task_id = None
        return
    # The final event says it; a separate note would print the same line twice.
    run.result.done.append(what)
    # What was observed before the delete no longer holds: the task is gone.
    run.result.status = run.result.state = run.result.message = ""


def took(run: TaskRun, task: Item, how: str) -> None:
    """The run follows `task` from now on (created, adopted, or kept over its duplicate)."""
    run.result.task_id = task.id
    task_seen(run, task)
    run.result.done.append(how)


def follow_up_sent(run: TaskRun, count: int) -> None:
    if run.retry is not None:  # the retry message: not one of the manifest's follow-ups
        note(run, f"sent the retry message (attempt {run.retry.attempt})")
        return
    run.result.follow_ups_sent += 1
    note(run, f"sent follow-up {count}/{len(run.follow_ups())}")


def delivered_already(run: TaskRun, count: int) -> None:
    what = f"{count} follow-up(s) delivered"
    if run.retry is not None:
        what = f"the retry message (attempt {run.retry.attempt}) is delivered"
    note(run, f"the logs show {what}; not sent again")


def note(run: TaskRun, what: str) -> None:
    """Something done: kept in the result and shown."""
    run.result.done.append(what)
    event(run, what)


def event(run: TaskRun, text: str, final: bool = False) -> None:
    run.emit(Event(run.result, text, final))
