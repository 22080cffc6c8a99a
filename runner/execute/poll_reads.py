"""A poll's own reads made at once (a Chats poll's capacity reads), on threads of their own.

Not on the runs' worker pool: a poll must never wait behind a run's create or follow-up. Each
read keeps the poll's bound (the lost-contact window) on the thread that makes it, as the
poll's list does on the stepper's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from runner.execute.workers import Workers

T = TypeVar("T")


class PollReads:
    """Up to `width` reads in flight at once; the threads are made at the first use."""

    def __init__(self, width: int) -> None:
        self.width = max(1, width)
        self._pool: Workers | None = None

    def within(self, bound: Callable[[], AbstractContextManager[None]]) -> BoundReads:
        """Reads made at once, each within `bound()` on its own thread."""
        return BoundReads(self, bound)

    def run(
        self, calls: Sequence[Callable[[], T]], bound: Callable[[], AbstractContextManager[None]]
    ) -> list[T]:
        if len(calls) <= 1:  # nothing to overlap: no thread hop
            with bound():
                return [call() for call in calls]
        if self._pool is None:
            self._pool = Workers(self.width)
        pool = self._pool

        def bounded(call: Callable[[], T]) -> Callable[[], T]:
            def job() -> T:
                with bound():
                    return call()

            return job

        futures: list[Future[Any]] = [pool.submit(bounded(call)) for call in calls]
        wait(futures)  # each ends by the bound
        return [future.result() for future in futures]

    def close(self) -> None:
        """Let the threads go (none is busy between polls; daemons, should one still be)."""
        if self._pool is not None:
            self._pool.abandon()
            self._pool = None


@dataclass(frozen=True)
class BoundReads:
    """`PollReads` with one poll's bound: a `runner.fanout.Fanout`."""

    reads: PollReads
    bound: Callable[[], AbstractContextManager[None]]

    @property
    def width(self) -> int:
        return self.reads.width

    def __call__(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        return self.reads.run(calls, self.bound)
