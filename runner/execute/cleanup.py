"""Clean-up (`after: stop | remove`) as the last steps of each task's run, once its outcome is
final.

A run whose outcome is decided and whose `after:` may follow concludes at once: it reads what
Coder says of the result (pull request, last message, cost) and judges its expectations, on a
worker like any request. Unless a retry may follow (runner/execute/retries.py decides that once
the round is judged), its outcome is then final and it cleans up right away, while the batch's
other runs go on, so a task that finishes early hands its workspace back early. Entries whose
outcome is final only once their round is judged (a retry could have followed) or that ran
nothing (unchanged) are cleaned up in one more round on the engine (`final_clean_ups`).

Clean-up follows a task that ended `ok`, `unchanged` or `failed` (the agent's work is over); one
that timed out, was interrupted or is unknown may still be working and is left as it is: the
next apply cleans it up once it finishes. Each attempt is one request sequence in an order a
re-run can finish from any point (the observer tells what is left: runner/observe.py); a
refusal for now (a chat Coder still interrupts, a build still running) is asked again after a
pause, a step of the run, so no worker waits it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.errors import ConflictError, TasksError
from runner.execute import record
from runner.execute.expectations import judge
from runner.execute.requests import CleanedUp, Op, Read, Reply, clean_up_op, details_op
from runner.execute.results import Outcome
from runner.execute.retries import Attempted, cause_of
from runner.execute.state import CleaningUp, Concluding, Done, State, Step
from runner.item import Item
from runner.readiness import ARCHIVE_PATIENCE_SECONDS

if TYPE_CHECKING:
    from runner.execute.run import TaskRun

#: Outcomes after which the agent's work is over, so its task may be stopped or removed.
CLEANED_AFTER = frozenset({Outcome.OK, Outcome.UNCHANGED, Outcome.FAILED})
#: What a clean-up stopped part-way says; the observer finds what is left on the next apply.
UNFINISHED = "clean-up interrupted; the next apply finishes it"
#: How long a clean-up is asked again while refused with 409 (a chat Coder still interrupts,
#: v2.35+, CHATS-CONTRACT 7.2; a stop or delete build while another build of the workspace
#: runs, Coder's `postWorkspaceBuilds` and `pauseTask`): the archive's patience, then a build's,
#: as these were once waited out in turn on a worker.
PATIENCE_SECONDS = ARCHIVE_PATIENCE_SECONDS + 15.0
RETRY_SECONDS = 0.5


def due(after: str, task: Item | None, outcome: Outcome | None) -> bool:
    """Whether an item with this `after:` and outcome is to be stopped or removed."""
    return bool(after) and task is not None and outcome in CLEANED_AFTER


def concluded(run: TaskRun, outcome: Outcome) -> State:
    """Where a run goes once `outcome` is decided: on to its conclusion when its clean-up may
    follow, else done."""
    return Concluding(outcome) if due(run.action.after, run.task, outcome) else Done(outcome)


def final_clean_ups(entries: Sequence[Attempted]) -> list[Attempted]:
    """The entries, every outcome final, whose clean-up is due and not yet done (or tried)."""
    return [
        e
        for e in entries
        if due(e.action.after, e.task, e.result.outcome) and not e.result.clean_up
    ]


def start_details(run: TaskRun, state: Concluding, task: Item) -> Op:
    run.go(Concluding(state.outcome, Step.DETAILS_ASKED))
    desired = run.action.desired
    last_text = desired is not None and desired.expect.message is not None
    return details_op(run.backend, task, last_text=last_text)


def finish_details(run: TaskRun, reply: Reply | None, error: BaseException | None) -> None:
    """Record the details (a failed read leaves them unread, as after a round), judge the
    result, then clean up unless a retry may follow (the round's judgement decides that)."""
    details = reply.details if isinstance(reply, Read) and error is None else None
    if details is not None:
        before = run.result.cost.micros if run.result.cost is not None else 0
        record.concluded_with(run, details)
        if details.cost is not None:  # counted by admission when the run ends, not read again
            counted = details.cost.micros - before
            run.update(replace(run.progress, cost_counted=counted))
    (judged,) = judge([run.action], [run.result])
    record.judged_in_run(run, judged)
    outcome = judged.outcome
    assert outcome is not None
    final = outcome in CLEANED_AFTER and not _retry_may_follow(run)
    run.go(CleaningUp(outcome) if final else Done(outcome))


def start_clean_up(run: TaskRun, state: CleaningUp, task: Item) -> Op:
    run.go(CleaningUp(state.outcome, state.refused_since, Step.CLEAN_UP_ASKED))
    return clean_up_op(run.backend, task, run.action.after)


def finish_clean_up(
    run: TaskRun, state: CleaningUp, reply: Reply | None, error: BaseException | None, now: float
) -> None:
    """What the attempt did; a refusal for now is asked again after a pause, for up to the
    clean-up's patience; any other failure fails the task (it is not as the manifest asks,
    and the next apply tries again)."""
    after = run.action.after
    if error is None:
        assert isinstance(reply, CleanedUp)
        record.cleaned_up(run, reply.what or f"nothing to {after}")
        run.go(Done(state.outcome))
        return
    since = now if state.refused_since is None else state.refused_since
    if isinstance(error, ConflictError) and now - since < PATIENCE_SECONDS:
        run.update(replace(run.progress, not_before=now + RETRY_SECONDS))
        run.go(CleaningUp(state.outcome, since))
        return
    why = error.message if isinstance(error, TasksError) else f"{type(error).__name__}: {error}"
    record.cleaned_up(run, f"{after} failed: {why}", failed=True)
    run.go(Done(Outcome.FAILED))


def stopped(run: TaskRun) -> None:
    """The apply stopped while the run concluded or cleaned up: its outcome stands, and a
    clean-up not done is said to be unfinished (the next apply finishes it)."""
    state = run.state
    if isinstance(state, CleaningUp):
        record.clean_up_unfinished(run, UNFINISHED)
    if isinstance(state, (Concluding, CleaningUp)):
        run.go(Done(state.outcome))


def _retry_may_follow(run: TaskRun) -> bool:
    """Whether the round's judgement may retry the run (its attempt number, read back from the
    deployment then, may still forbid it: that entry is cleaned up after the round)."""
    desired = run.desired
    return (
        desired is not None
        and desired.retries > 0
        and cause_of(run.result) in desired.retry_on
        and run.result.attempts <= desired.retries
    )
