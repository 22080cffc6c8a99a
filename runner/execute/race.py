"""Concurrent applies of one batch on a server without unique names (Chats): each may create a
chat for the same item. The oldest live one is kept (ownership.survivor); a run whose own chat
is younger archives it and watches the kept one, whose follow-ups the run that made it sends.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ApiError, NotFoundError, TransportError
from runner.execute import create, ending, record
from runner.execute.listing import Listing
from runner.execute.state import Retiring
from runner.readiness import ARCHIVE_RETRY_SECONDS

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def lost_race(run: TaskRun, listing: Listing) -> bool:
    """Whether a chat of the item this run's command made is listed beside the one kept
    (oldest by `created_at`, then id; see ownership.survivor), which is then set aside: the
    chat the run created, or one a create whose answer was lost made after the listing that
    followed it. The first poll after a create (its listing began after the create answered)
    decides before anything is sent; no request beyond the poll's list pages."""
    owner, name = run.action.owner, run.action.coder_name
    kept, stray = listing.kept(owner, name), listing.stray(owner, name)
    if kept is not None and stray is not None and stray.id != run.replaced_id:
        # Retiring archives the chat the run follows, then follows the kept one.
        run.update(replace(run.progress, task=stray, created_id=stray.id))
        run.go(Retiring(kept))
        return True
    created_id = run.progress.created_id
    if not created_id:
        return False
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
    created, kept = run.progress.created_id, state.kept
    if run.backend.made_here(kept):  # an earlier create of this command, its answer lost
        run.update(replace(run.progress, created_id=kept.id))
        how = f"created {created} and the older {kept.id}; kept the older and archived {created}"
    else:
        run.update(replace(run.progress, created_id="", observer=True))
        how = (
            f"created {created} as a concurrent apply did; kept the older {kept.id} "
            f"and archived {created}; its follow-ups are sent by the run that created it"
        )
    create.take(run, kept, how, now)
