"""Whether the deployment can still be seen: failed polls in a row, and the lost-contact window.

The window (`--lost-contact-after`) bounds the whole outage, not each request: it opens when
the first failing poll starts, and every later poll's requests, retries included, must end by
its close (`Backend.no_later_than`), whether the server refuses, resets or never answers. A poll
that starts while the deployment answers gets half the window: its retries (seconds of backoff
on a refused connection) must not use the whole window, or the run would give up
without the warning that the first failure promises.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from runner.durations import format_seconds
from runner.errors import ApiError, LostContactError, TransportError
from runner.execute.results import Notice

#: Ends every request of a block by an instant, saying why (`Backend.no_later_than`).
Bound = Callable[[float, str], AbstractContextManager[None]]

#: At most this long between two reports of polls still failing.
FAILURE_NOTICE_EVERY = 30.0
#: A socket timeout may end a hair before the instant it was set for.
TIMER_SLACK_SECONDS = 0.05


class Contact:
    """The run of consecutive failed polls, reported through `notify`."""

    def __init__(self, grace: float, notify: Callable[[Notice], None], limit: Bound) -> None:
        self.grace = grace
        self.limit = limit
        self.notify = notify
        self.failing_since: float | None = None  # when the first failing poll started
        self.failed_polls = 0
        self.last_notice = float("-inf")

    @property
    def failing(self) -> bool:
        """Whether the last poll failed."""
        return self.failing_since is not None

    def closes_at(self) -> float | None:
        """When the window of the current outage closes; None while polls succeed."""
        return None if self.failing_since is None else self.failing_since + self.grace

    def bound(self, started: float) -> AbstractContextManager[None]:
        """Around a poll started at `started`: its requests end by the window's close, or by
        half the window when no poll is failing yet, so a first failure is reported in time."""
        window = f"{format_seconds(self.grace)} lost-contact window (--lost-contact-after)"
        if self.failing_since is None:
            return self.limit(started + self.grace / 2, f"half the {window}")
        return self.limit(self.failing_since + self.grace, f"the {window}")

    def reached(self) -> None:
        """A poll succeeded: the outage, if any, is over."""
        if self.failing_since is None:
            return
        self.notify(
            Notice(
                f"reached the deployment again after {self.failed_polls} failed poll(s)",
                warning=True,
            )
        )
        self.failing_since = None
        self.failed_polls = 0
        self.last_notice = float("-inf")

    def failed(
        self, error: ApiError | TransportError, started: float, now: float
    ) -> LostContactError | None:
        """Count a poll started at `started` that failed; past the window, the error to stop."""
        self.failed_polls += 1
        if self.failing_since is None:
            self.failing_since = started
        lost_for = now - self.failing_since
        reason = error.message
        if lost_for + TIMER_SLACK_SECONDS >= self.grace:
            return LostContactError(
                f"lost contact with the deployment: {self.failed_polls} poll(s) failed over "
                f"{format_seconds(round(lost_for, 1))} (last: {reason})"
            )
        if now - self.last_notice >= min(FAILURE_NOTICE_EVERY, self.grace / 3):
            self.last_notice = now
            left = format_seconds(round(self.grace - lost_for, 1))
            self.notify(
                Notice(
                    f"cannot reach the deployment ({self.failed_polls} failed poll(s)): "
                    f"{reason}; giving up in {left}",
                    warning=True,
                )
            )
        return None
