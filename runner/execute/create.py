"""Creating a task, adopting one a create in doubt may have made, and taking a task up.

A create is started in `start_create` (once its template version may be tried); a create whose
outcome is in doubt goes to Adopting, and the next poll's listing decides in `adopt`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from runner import ownership
from runner.errors import ConflictError, ServerError, UncertainOutcomeError
from runner.execute import ending, record, send, timeout
from runner.execute.listing import Listing
from runner.execute.requests import Created, Op, Reply, create_op
from runner.execute.results import Outcome
from runner.execute.state import Adopting, Creating, Doubt, FollowingUp, Step, Watch
from runner.item import Item

if TYPE_CHECKING:
    from runner.execute.run import TaskRun


def start_create(run: TaskRun, now: float) -> Op | None:
    """The create request, or None: refused (its version is known bad) or held back while
    another task's create tries the same version."""
    desired, resolved = run.desired, run.resolved
    assert desired is not None and resolved is not None
    refused = run.backend.create_refused(resolved)
    if refused is not None:
        ending.end(run, Outcome.FAILED, now, error=refused)  # known bad: no create is sent
        return None
    if not run.backend.claim_create(resolved, pinned=_pinned(run)):
        return None  # another task's create is trying this version; wait for its verdict
    run.go(Creating(Step.CREATE_ASKED))
    return create_op(run.backend, desired, resolved)


def _pinned(run: TaskRun) -> bool:
    """Whether the manifest pins a template version (which only a create can judge)."""
    return run.desired is not None and run.desired.template_version is not None


def finish_create(
    run: TaskRun, reply: Reply | None, error: BaseException | None, now: float
) -> None:
    _settle_version(run, error)
    if error is None and isinstance(reply, Created):
        if not run.backend.unique_names:
            # The first poll confirms it alone (race.py).
            run.update(replace(run.progress, created_id=reply.task.id))
        take(run, reply.task, "created", now)
        return
    if isinstance(error, (UncertainOutcomeError, ServerError)):
        doubt = Doubt.LOST
        record.event(
            run, f"create outcome unknown ({ending.reason(error)}); checking the deployment"
        )
    elif isinstance(error, ConflictError):
        doubt = Doubt.CONFLICT
        record.event(run, f"name {run.action.coder_name!r} is taken; checking whose it is")
    else:
        ending.fail(run, error, now)
        return
    timeout.begin_wait(run, now)
    run.go(Adopting(doubt))


def _settle_version(run: TaskRun, error: BaseException | None) -> None:
    assert run.resolved is not None
    run.backend.settle_create(run.resolved, pinned=_pinned(run), error=error)


def adopt(run: TaskRun, state: Adopting, listing: Listing, now: float) -> None:
    """What the listing after a create in doubt shows under the item's name decides."""
    desired = run.desired
    assert desired is not None
    found = listing.kept(run.action.owner, run.action.coder_name)
    if found is not None and found.id == run.replaced_id:
        found = None  # the task being replaced, listed once more before it went
    if found is None:
        if state.doubt is Doubt.CONFLICT:
            # Held by a workspace still being deleted (or one that is not a task): wait.
            run.retry_later(now)
            record.event(run, "name still reserved (a workspace is being deleted?); waiting")
        run.go(Creating())
        return
    ours = ownership.owns(desired.batch, found.name, found.display_name)
    if ours and (found.initial_prompt or "").strip() == desired.prompt.strip():
        if state.doubt is Doubt.LOST and not run.backend.unique_names:
            _take_after_lost_create(
                run, found, listing.own(run.action.owner, run.action.coder_name), now
            )
            return
        how = (
            "adopted (created, response lost)"
            if state.doubt is Doubt.LOST
            else ("adopted (created concurrently)")
        )
        take(run, found, how, now)
        return
    why = "it belongs to another batch or was made by hand" if not ours else "its prompt differs"
    ending.end(
        run,
        Outcome.FAILED,
        now,
        error=f"a task named {found.name!r} already exists and {why}; not adopted",
    )


def _take_after_lost_create(run: TaskRun, kept: Item, own: Item | None, now: float) -> None:
    """Without unique names, the item's kept chat may be a concurrent apply's. The run follows
    `own`, the chat its own command made, where one is listed (the next poll keeps the oldest,
    as after any create: race.py); where none is and the kept one is another command's, the
    run watches it, and the run that created it sends its follow-ups."""
    if own is not None:
        run.update(replace(run.progress, created_id=own.id))
        take(run, own, "adopted (created, response lost)", now)
    elif run.backend.made_here(kept) is False:
        run.update(replace(run.progress, observer=True))
        take(run, kept, ADOPTED_FROM_ANOTHER_APPLY, now)
    else:  # no mark says who made it (a chat made before the mark): this run sends, guarded
        take(run, kept, "adopted (created, response lost)", now)


#: A create lost on its way, and the item's chat made by a concurrent apply meanwhile.
ADOPTED_FROM_ANOTHER_APPLY = (
    "adopted the chat a concurrent apply created (this create's answer was lost); its "
    "follow-ups are sent by the run that created it"
)


def take(run: TaskRun, task: Item, how: str, now: float) -> None:
    """The run follows `task` from now on: created, adopted, or kept over its duplicate."""
    run.update(replace(run.progress, task=task))
    record.took(run, task, how)
    timeout.begin_wait(run, now)
    run.reset_tracker()
    # The line is shown once the run is past its create: a stop that follows the line
    # (a signal lands between any two statements) then finds the task known, not in doubt.
    ends_here = not run.follow_ups_left() and run.wait_mode() == "none"
    if run.follow_ups_left():
        run.go(FollowingUp())
    elif not ends_here:
        send.after_follow_ups(run, Watch(), now)
    record.event(run, how)
    if ends_here:
        send.after_follow_ups(run, Watch(), now)  # its final line comes after this one
