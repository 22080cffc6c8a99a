"""Concurrent applies of one batch on a server without unique names (Chats): each may create a
chat for the same item. The oldest live one is kept (ownership.survivor); a run whose own chat
is younger archives it and watches the kept one, whose follow-ups the run that made it sends.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ApiError, NotFoundError, TransportError
from runner.execute import create, ending, record
from runner.execute.state import Retiring
from runner.item import Item
from runner.readiness import ARCHIVE_RETRY_SECONDS

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def lost_race(run: TaskRun, by_name: dict[str, Item]) -> bool:
    """Whether another live chat of the item is kept (oldest by `created_at`, then id; see
    ownership.survivor) over the one this run created, which is then set aside. The first
    poll after the create (its listing began after the create answered) decides before
    anything is sent; no request beyond the poll's list pages."""
    created_id = run.progress.created_id
    if not created_id:
        return False
    kept = by_name.get(f"{run.action.owner}/{run.action.coder_name}".lower())
    if kept is None or kept.id in (created_id, run.replaced_id):
        confirmed = run.progress.confirmed or kept is not None
        run.update(replace(run.progress, confirmed=confirmed))
        return False
    run.go(Retiring(kept))
    return True


def finish_retire(run: TaskRun, state: Retiring, error: BaseException | None, now: float) -> None:
    if error is not None and not isinstance(error, NotFoundError):
        if not isinstance(error, (ApiError, TransportError)):
            ending.fail(run, error, now)
            return
        if run.backend.retire_refused_for_now(error):
            # Coder still interrupts the chat (v2.35+, CHATS-CONTRACT 7.2): archive it again
            # shortly, a step of the run, so no worker waits; the task's timeout bounds it.
            run.update(replace(run.progress, not_before=now + ARCHIVE_RETRY_SECONDS))
            run.go(Retiring(state.kept))
            return
        record.event(run, f"cannot archive the duplicate yet ({ending.reason(error)}); retrying")
        run.retry_later(now)
        run.go(Retiring(state.kept))
        return
    created = run.progress.created_id
    run.update(replace(run.progress, created_id="", observer=True))
    how = (
        f"created {created} as a concurrent apply did; kept the older {state.kept.id} "
        f"and archived {created}; its follow-ups are sent by the run that created it"
    )
    create.take(run, state.kept, how, now)
