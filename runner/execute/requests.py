"""The requests a task run makes, each on a worker thread, and their typed answers.

A request either answers with one of the `Reply` values below or raises; the run's state says
which request an answer belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.execute.details import read_one
from runner.item import Item, ItemDetails, Message, ResolvedTask
from runner.manifest.model import DesiredTask
from runner.plan import delivered_count

if TYPE_CHECKING:
    from runner.backends import Backend


@dataclass(frozen=True)
class Deleted:
    """The delete was accepted."""


@dataclass(frozen=True)
class Created:
    task: Item


@dataclass(frozen=True)
class Retired:
    """A younger duplicate was set aside; the run follows the kept one."""


@dataclass(frozen=True)
class NotYet:
    """Watching a chat another run sends to: its next follow-up is not in the history yet."""


@dataclass(frozen=True)
class Sent:
    """What a send request did: follow-up `count` is now delivered, by it or before it."""

    count: int
    already_delivered: bool  # the logs showed it delivered, so nothing was sent


@dataclass(frozen=True)
class Retry:
    """A run that sends a retry message: which attempt it starts, and whether the agent's
    current work (a timed-out attempt) is stopped for it."""

    attempt: int
    interrupt: bool = False


@dataclass(frozen=True)
class Resumed:
    """The resume was accepted."""


@dataclass(frozen=True)
class Read:
    """What Coder says of a concluded run's result; None where it could not be read."""

    details: ItemDetails | None


@dataclass(frozen=True)
class CleanedUp:
    """What one clean-up attempt did (`clean_up.STOPPED`, `REMOVED`, or "" for nothing)."""

    what: str


Reply = Deleted | Created | Retired | Sent | NotYet | Resumed | Read | CleanedUp
Op = Callable[[], Reply]


def delete_op(backend: Backend, task: Item) -> Op:
    def delete() -> Deleted:
        backend.delete(task)
        return Deleted()

    return delete


def create_op(backend: Backend, desired: DesiredTask, resolved: ResolvedTask) -> Op:
    return lambda: Created(backend.create(desired, resolved))


def retire_op(backend: Backend, task: Item) -> Op:
    def retire() -> Retired:
        backend.retire(task)
        return Retired()

    return retire


def send_op(
    backend: Backend,
    task: Item,
    desired: DesiredTask,
    delivered: int,
    *,
    sends: bool = True,
    retry: Retry | None = None,
) -> Op:
    """Send follow-up number `delivered + 1`, unless the logs show it delivered already.

    Without `sends` (a run whose own create lost a race: the run that made the kept chat
    sends), only the logs are read, and `NotYet` says the follow-up is not there yet. With
    `retry`, the follow-up is a retry message (runner/execute/retries.py): delivered when its
    text is anywhere among the inputs, sent whatever the failed attempt answered.
    """

    def send() -> Sent | NotYet:
        # The logs decide, right before each send: a follow-up that an earlier (lost)
        # send or a concurrent apply delivered is never sent again.
        # A retry message is in no label's proof: for one, the inputs are read.
        delivered_now = backend.delivered_inputs(task, read=retry is not None)
        inputs = delivered_now.inputs
        if retry is not None:
            wanted = desired.follow_ups[delivered].strip()
            if any(text.strip() == wanted for text in inputs):
                return Sent(delivered + 1, already_delivered=True)
            message = Message(wanted, None, delivered_now, interrupt=retry.interrupt)
            sent = backend.send(task, message)
            return Sent(delivered + 1, already_delivered=not sent)
        present = delivered_count(inputs, desired.prompt, desired.follow_ups)
        if present > delivered:
            return Sent(present, already_delivered=True)
        if not sends:
            return NotYet()
        after = desired.follow_ups[delivered - 1] if delivered else desired.prompt
        text = desired.follow_ups[delivered]
        if not backend.send(task, Message(text, after, delivered_now)):
            return Sent(delivered + 1, already_delivered=True)
        return Sent(delivered + 1, already_delivered=False)

    return send


def resume_op(backend: Backend, task: Item) -> Op:
    def resume() -> Resumed:
        backend.resume(task)
        return Resumed()

    return resume


def details_op(backend: Backend, task: Item, *, last_text: bool) -> Op:
    """Read the result's details and, where the server keeps it, its cost."""
    return lambda: Read(read_one(backend, task, last_text, cost=backend.has_cost))


def clean_up_op(backend: Backend, task: Item, after: str) -> Op:
    """One attempt at the item's `after:`; a refusal for now is raised (cleanup.py)."""
    return lambda: CleanedUp(backend.clean_up(task, after))
