"""The requests a task run makes, each on a worker thread, and their typed answers.

A request either answers with one of the `Reply` values below or raises; the run's state says
which request an answer belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.coder.models import Task
from runner.errors import ApiError, TransportError, UncertainOutcomeError
from runner.manifest.model import DesiredTask
from runner.plan import delivered_count
from runner.preflight import ResolvedTask

if TYPE_CHECKING:
    from runner.backends import Backend


@dataclass(frozen=True)
class Deleted:
    """The delete was accepted."""


@dataclass(frozen=True)
class Created:
    task: Task  # the item kept: the one created, or an older one a concurrent apply made
    retired: str = ""  # the id of the one created, when it was retired as a duplicate


@dataclass(frozen=True)
class Sent:
    """What a send request did: follow-up `count` is now delivered, by it or before it."""

    count: int
    already_delivered: bool  # the logs showed it delivered, so nothing was sent


@dataclass(frozen=True)
class Resumed:
    """The resume was accepted."""


Reply = Deleted | Created | Sent | Resumed
Op = Callable[[], Reply]


def delete_op(backend: Backend, task: Task) -> Op:
    def delete() -> Deleted:
        backend.delete(task)
        return Deleted()

    return delete


def create_op(backend: Backend, desired: DesiredTask, resolved: ResolvedTask) -> Op:
    """Create, then make sure the item has one live instance (the oldest is kept)."""

    def create() -> Created:
        created = backend.create(desired, resolved)
        try:
            kept = backend.keep_one(desired, created)
        except (ApiError, TransportError) as error:
            # Created, but not confirmed alone: the listing that adopts it decides.
            why = f"created; not yet confirmed alone ({error.message})"
            raise UncertainOutcomeError(why) from error
        return Created(kept, retired="" if kept.id == created.id else created.id)

    return create


def send_op(backend: Backend, task: Task, desired: DesiredTask, delivered: int) -> Op:
    """Send follow-up number `delivered + 1`, unless the logs show it delivered already."""

    def send() -> Sent:
        # The logs decide, right before each send: a follow-up that an earlier (lost)
        # send or a concurrent apply delivered is never sent again.
        inputs = backend.delivered_inputs(task)
        present = delivered_count(inputs, desired.prompt, desired.follow_ups)
        if present > delivered:
            return Sent(present, already_delivered=True)
        after = desired.follow_ups[delivered - 1] if delivered else desired.prompt
        if not backend.send(task, desired.follow_ups[delivered], after=after):
            return Sent(delivered + 1, already_delivered=True)
        return Sent(delivered + 1, already_delivered=False)

    return send


def resume_op(backend: Backend, task: Task) -> Op:
    def resume() -> Resumed:
        backend.resume(task)
        return Resumed()

    return resume
