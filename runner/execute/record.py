"""The one writer of results: every change to a TaskResult is a new value made here.

A result is frozen; a run holds the value so far and replaces it through the functions below
(which also emit its progress events, each carrying the value as it was then), and the phases
after a run (details, expectations, retries, clean-up, the budget's cost reads) take a value and
return the next one through the value functions. ending.py decides the outcome; `closed`
writes it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.execute.results import Event, Expectation, Outcome, TaskResult
from runner.item import Cost, Item, ItemDetails

if TYPE_CHECKING:
    from runner.execute.run import TaskRun

# -- values: a result in, the next result out ------------------------------------------------


def noted(result: TaskResult, what: str) -> TaskResult:
    """`what` added to what was done."""
    return replace(result, done=(*result.done, what))


def seen(result: TaskResult, task: Item, link: str = "") -> TaskResult:
    """What a create, an adoption or a poll showed of the task (and its dashboard link)."""
    shown = replace(
        result, task_id=task.id, status=task.status, state=task.state, message=task.message
    )
    return replace(shown, link=link) if link else shown


def ended(result: TaskResult, outcome: Outcome, error: str) -> TaskResult:
    return replace(result, outcome=outcome, error=error, finished_at=time.time())


def with_details(result: TaskResult, details: ItemDetails, *, newest: bool = False) -> TaskResult:
    """What Coder said of the result once its run ended. A cost known is kept, unless the
    details' cost is the `newest` (read as this attempt's run concluded)."""
    cost = (details.cost or result.cost) if newest else (result.cost or details.cost)
    return replace(
        result,
        pull_request=details.pull_request,
        last_message=details.last_message,
        cost=cost,
        details_read=True,
    )


def costed(result: TaskResult, cost: Cost) -> TaskResult:
    return replace(result, cost=cost)


def judged(
    result: TaskResult,
    outcome: Outcome | None,
    error: str,
    expectations: tuple[Expectation, ...] = (),
) -> TaskResult:
    """The verdict of the result's `expect:` checks (its outcome unchanged when all are met)."""
    return replace(result, outcome=outcome, error=error, expectations=expectations)


def attempts_read(result: TaskResult, attempts: int) -> TaskResult:
    return replace(result, attempts=attempts)


def retrying(result: TaskResult, attempt: int, of: int) -> TaskResult:
    """The result as the next attempt starts it: open again, its earlier verdict cleared."""
    cleared = replace(
        result, attempts=attempt, outcome=None, error="", expectations=(), details_read=False
    )
    return noted(cleared, f"retry {attempt - 1} of {of}")


def cleaned(result: TaskResult, what: str, *, failed: bool = False) -> TaskResult:
    """What `after:` did; a failed clean-up fails the task (it is not as the manifest asks)."""
    if not failed:
        return noted(replace(result, clean_up=what), what)
    error = "; ".join(e for e in (result.error, what) if e)
    return replace(result, clean_up=what, outcome=Outcome.FAILED, error=error)


# -- a run's result: replaced as the run goes, with its progress events -----------------------


def carried_on(run: TaskRun, result: TaskResult) -> None:
    """The run goes on from a result an earlier run left (the next attempt of its task, or
    the clean-up of an entry once its round is judged)."""
    run.result = result


def started(run: TaskRun) -> None:
    result = run.result  # a retry keeps the first start
    run.result = replace(result, started_at=result.started_at or time.time())


def wait_started(run: TaskRun) -> None:
    run.result = replace(run.result, wait_started_at=time.time())


def task_seen(run: TaskRun, task: Item) -> None:
    """What a create, an adoption or a poll showed of the task; a status line if it changed."""
    before = run.result
    link = ""
    if run.settings.dashboard_url and task.id:
        owned = task if task.owner_name else replace(task, owner_name=run.action.owner)
        link = f"{run.settings.dashboard_url.rstrip('/')}{run.backend.dashboard_path(owned)}"
    run.result = seen(before, task, link)
    changed = (before.status, before.state) != (task.status, task.state)
    if changed and before.started_at is not None:
        run.emit(Event(run.index, run.result, task.message, status_only=True))


def task_gone(run: TaskRun, what: str, *, replaced: bool) -> None:
    """The task was deleted: a replace creates another; a delete's final line says `what`."""
    if replaced:
        run.result = replace(run.result, task_id=None)
        note(run, what)
        return
    # The final event says it; a separate note would print the same line twice. What was
    # observed before the delete no longer holds: the task is gone.
    run.result = replace(noted(run.result, what), status="", state="", message="")


def took(run: TaskRun, task: Item, how: str) -> None:
    """The run follows `task` from now on (created, adopted, or kept over its duplicate)."""
    task_seen(run, task)
    run.result = noted(run.result, how)


def follow_up_sent(run: TaskRun, count: int) -> None:
    if run.retry is not None:  # the retry message: not one of the manifest's follow-ups
        note(run, f"sent the retry message (attempt {run.retry.attempt})")
        return
    run.result = replace(run.result, follow_ups_sent=run.result.follow_ups_sent + 1)
    note(run, f"sent follow-up {count}/{len(run.follow_ups())}")


def delivered_already(run: TaskRun, count: int) -> None:
    what = f"{count} follow-up(s) delivered"
    if run.retry is not None:
        what = f"the retry message (attempt {run.retry.attempt}) is delivered"
    note(run, f"the logs show {what}; not sent again")


def closed(run: TaskRun, outcome: Outcome, error: str) -> None:
    """The run's outcome (ending.py decides it)."""
    run.result = ended(run.result, outcome, error)


def concluded_with(run: TaskRun, details: ItemDetails) -> None:
    """What Coder said of the result as the run concluded (runner/execute/cleanup.py)."""
    run.result = with_details(run.result, details, newest=True)


def judged_in_run(run: TaskRun, result: TaskResult) -> None:
    """The run's result as `expectations.judge` judged it (made from the run's own)."""
    run.result = result


def cleaned_up(run: TaskRun, what: str, *, failed: bool = False) -> None:
    """What the run's `after:` did, with its line; a failed one fails the task."""
    run.result = cleaned(run.result, what, failed=failed)
    event(run, what, final=failed)


def clean_up_unfinished(run: TaskRun, why: str) -> None:
    """The apply stopped before the run's clean-up was done: why (the next apply finishes it)."""
    run.result = replace(run.result, clean_up=why)


def cost_read(run: TaskRun, cost: Cost) -> None:
    """The chat's cost, read when its run ended (runner/execute/admission.py)."""
    run.result = costed(run.result, cost)


def note(run: TaskRun, what: str) -> None:
    """Something done: kept in the result and shown."""
    run.result = noted(run.result, what)
    event(run, what)


def event(run: TaskRun, text: str, final: bool = False) -> None:
    run.emit(Event(run.index, run.result, text, final))
