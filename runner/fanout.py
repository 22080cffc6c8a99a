"""Calls made at once: the shape a backend is handed to read several things in one poll.

The executor runs them on threads of its own (`runner/execute/poll_reads.py`); `IN_ORDER` runs
them one after another on the calling thread (one at a time: `width` 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Fanout(Protocol):
    """Makes `calls` at once, at most `width` in flight, and returns their results in order."""

    @property
    def width(self) -> int:
        """How many calls may be in flight at once."""

    def __call__(self, calls: Sequence[Callable[[], T]]) -> list[T]: ...


class _InOrder:
    width = 1

    def __call__(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        return [call() for call in calls]


IN_ORDER: Fanout = _InOrder()
