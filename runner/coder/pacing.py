"""Client-side pacing on Coder's rate-limit headers, so a large apply is never refused.

Coder limits each caller per exact URL path (by IP up to v2.31, by user from v2.32; CONTRACT
9.3) with httprate's sliding window counter: fixed windows (one minute), where the previous
window's count still weighs by its overlap with the last minute. Every response says
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the current window's end).

Per path this pacer spends what the server says remains, minus every request the server may
have counted after the answer's own: those still in flight, and those answered while it was on
the way (httprate counts in arrival order, which parallel requests do not keep). Once
that is gone, the budget comes back only as the window slides: after a burst nothing frees
before the window ends, and from then on about `limit` per window. So the first request after
running dry waits for the window's end plus one step (`window / limit`), and later ones follow
one step apart, while any response that shows budget again lets requests go at once. A 429
(another client shared the budget) costs the time to the window's end plus one step, not the
blind 60 s of `Retry-After`.

A request counts against every window it may have reached the server in, until an answer's
`X-RateLimit-Reset` names that window: the server counts it on arrival, which can be a window
later than its grant on a busy machine, and one whose answer is lost may have been counted in
any window from its grant to the loss.

The window length is learned from how `X-RateLimit-Reset` advances (60 s on a real server;
shorter on a simulator with a time scale). Server time comes from `X-RateLimit-Reset` itself;
a client clock that disagrees with the server's `Date` by more than a few seconds is corrected.
`Date` has whole seconds and is stamped somewhere between the request's grant and its answer,
so only an offset that a slow answer cannot explain is a wrong clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

#: Coder's window (`RateLimit(count, time.Minute)`), until a response shows another.
DEFAULT_WINDOW_SECONDS = 60.0
#: Steps are this much longer than `window / limit`, so the sliding count stays below the limit.
STEP_MARGIN = 1.05
#: Send times kept per path: two windows' worth at Coder's default limit.
SENT_KEPT = 2 * 512 + 64
#: Longest single sleep while waiting for budget.
MAX_NAP_SECONDS = 0.5
#: A client clock this far from the server's `Date` is corrected (Date has 1 s resolution).
SKEW_TOLERANCE_SECONDS = 2.0
#: A request an answer places in a window is kept this fraction of the window inside it, so
#: that float noise in learnt windows and resets cannot move it across the window's edge.
EDGE_FRACTION = 1e-3


@dataclass(frozen=True)
class Grant:
    """Leave to send one request: its number on the path, the seconds paced before it, how
    many answers the path had when it was given, and the client's clock then."""

    number: int
    waited: float
    answers: int = 0
    at: float = 0.0


@dataclass
class _Route:
    limit: int = 0
    remaining: int = 0
    reset: float = 0.0
    in_flight: int = 0
    #: No request before this time, and the end of a window found full (after a 429).
    hold_until: float = 0.0
    full_until: float = 0.0
    #: [grant number, earliest, latest] arrival times of the latest requests: enough to count
    #: two full windows. In flight, `latest` is open (inf); an answer narrows both to the
    #: window the server counted the request in, a lost answer closes `latest` at the loss.
    sent: deque[list[float]] = field(default_factory=lambda: deque(maxlen=SENT_KEPT))

    def count(self, since: float, until: float) -> int:
        """Requests that may have been counted in [since, until)."""
        return sum(1 for _, first, last in self.sent if first < until and last >= since)

    def count_surely(self, since: float, until: float) -> int:
        """Requests that were counted in [since, until), if at all."""
        return sum(1 for _, first, last in self.sent if since <= first and last < until)

    def settle(self, number: int, start: float, end: float) -> None:
        """Request `number` was counted in [start, end), or not at all (a 429: dropped)."""
        for entry in reversed(self.sent):
            if entry[0] == number:
                if end <= start:
                    self.sent.remove(entry)
                    return
                entry[1] = min(max(entry[1], start), end - 1e-6)
                entry[2] = max(min(entry[2], end - 1e-6), entry[1])
                return

    #: Requests granted so far, the grant number of the newest answer learnt from, and the
    #: answers (or losses) seen so far.
    granted: int = 0
    learnt: int = 0
    answers: int = 0


class RatePacer:
    """Per-path pacing from the rate-limit headers; thread-safe, shared by all workers."""

    def __init__(
        self,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        self._wall = wall
        self._sleep = sleep
        self._on_wait = on_wait
        self._routes: dict[str, _Route] = {}
        self._window = DEFAULT_WINDOW_SECONDS
        self._skew = 0.0
        self._lock = threading.Lock()

    def acquire(self, path: str) -> Grant:
        """Wait until a request on `path` fits the server's budget."""
        waited = 0.0
        slept_until = 0.0
        while True:
            with self._lock:
                route = self._routes.setdefault(path, _Route())
                # After sleeping until `due`, it is at least `due` (whatever the clock's grain).
                now = max(self._now(), slept_until)
                due = self._due(route, now)
                if due <= now:
                    self._spend(route, now)
                    return Grant(route.granted, waited, route.answers, self._wall())
            if not waited and self._on_wait is not None:
                self._on_wait(path, due - now)
            # In short naps, so what other requests learn meanwhile (the window) counts.
            pause = min(due - now, MAX_NAP_SECONDS)
            self._sleep(pause)
            waited += pause
            slept_until = now + pause

    def observe(self, path: str, grant: Grant, headers: Mapping[str, str]) -> None:
        """Learn from a response's headers (any status but 429); ends one in-flight request.

        An answer older than one already learnt from only ends its request: its count of what
        remains misses requests answered since.
        """
        with self._lock:
            route = self._routes.setdefault(path, _Route())
            same_window = route.limit > 0
            before = route.reset
            parsed = self._answered(route, grant, headers)
            if parsed is None:
                return
            remaining, reset = parsed
            same_window = same_window and reset == before
            # Inside the window by a hair: it must count there however its edges are computed.
            edge = self._window * EDGE_FRACTION
            route.settle(grant.number, reset - self._window + edge, reset - edge)
            if grant.number < route.learnt:
                return
            route.learnt = grant.number
            # Not counted in `remaining` may be any request still in flight, and any answered
            # while this one was on the way: the server may have counted those after this one.
            overtaken = route.answers - 1 - grant.answers
            left = max(0, remaining - route.in_flight - overtaken)
            previous = route.count_surely(reset - 2 * self._window, reset - self._window)
            if same_window and previous == 0:
                # Nothing slides out of this window, so more cannot have come free: a higher
                # count is an answer overtaken on the way by requests sent after it.
                left = min(left, route.remaining)
            route.remaining = left

    def refused(self, path: str, grant: Grant, headers: Mapping[str, str]) -> float | None:
        """A 429: the seconds until the next request may go, or None without rate headers."""
        with self._lock:
            route = self._routes.setdefault(path, _Route())
            parsed = self._answered(route, grant, headers)
            route.settle(grant.number, 0.0, 0.0)  # httprate does not count a refused request
            if parsed is None:
                return None
            limit = route.limit
            route.learnt = max(route.learnt, grant.number)
            route.remaining = 0
            # Another client spent the budget: wait for the window's end.
            route.hold_until = route.reset + self._window * STEP_MARGIN / limit
            route.full_until = route.reset
            now = self._now()
            return max(0.0, self._due(route, now) - now)

    def abandon(self, path: str, grant: Grant) -> None:
        """A request that got no response at all: the server may have counted it all the same,
        in any window up to now."""
        with self._lock:
            route = self._routes.get(path)
            if route is not None:
                route.in_flight = max(0, route.in_flight - 1)
                route.answers += 1
                route.settle(grant.number, -math.inf, self._now() + 1e-6)

    # -- rules (called with the lock held) --------------------------------------------------

    def _answered(
        self, route: _Route, grant: Grant, headers: Mapping[str, str]
    ) -> tuple[int, float] | None:
        """End one in-flight request and learn limit, window and clock: (remaining, reset)."""
        route.in_flight = max(0, route.in_flight - 1)
        route.answers += 1
        route.settle(grant.number, -math.inf, self._now() + 1e-6)  # it arrived by now
        self._learn_clock(headers, grant.at)
        parsed = _parse(headers)
        if parsed is None:
            return None
        limit, remaining, reset = parsed
        self._learn_window(route, reset)
        route.limit = limit
        return remaining, reset

    def _due(self, route: _Route, now: float) -> float:
        if route.limit <= 0 or route.remaining > 0:
            return now
        reset = self._window_end(route, now)
        start = reset - self._window
        current = route.count(start, reset)
        # What was sent in the previous window frees up as that window slides out: httprate
        # counts previous * (1 - elapsed / window) + current, which must stay below the limit.
        previous = min(route.limit, route.count(start - self._window, start))
        if abs(start - route.full_until) < 1e-6:
            previous = route.limit  # a 429 said others filled it
        if previous > 0:
            over = current + 1 - (route.limit - previous)
            due = start + max(0, over) * self._window * STEP_MARGIN / previous
        elif current > 0:
            # Spent within this window: nothing slides out before it ends (httprate).
            due = reset + self._window * STEP_MARGIN / route.limit
        else:
            # Nothing on the books for the last windows: assume the previous one was full.
            due = start + (current + 1) * self._window * STEP_MARGIN / route.limit
        due = max(due, route.hold_until)
        return min(due, now + self._window * 2)  # a bogus far-off reset cannot stall us

    def _spend(self, route: _Route, now: float) -> None:
        route.in_flight += 1
        route.granted += 1
        route.sent.append([route.granted, now, math.inf])
        if route.remaining > 0:
            route.remaining -= 1

    def _window_end(self, route: _Route, now: float) -> float:
        """The end of the window `now` is in, though no answer has shown it yet."""
        if now < route.reset or not route.reset:
            return route.reset
        return route.reset + self._window * (math.floor((now - route.reset) / self._window) + 1)

    def _learn_window(self, route: _Route, reset: float) -> None:
        if route.reset and reset > route.reset + 1e-6:
            # Windows are aligned, so a jump is a whole number of them; the least seen is one.
            # Taking a double jump for one window errs on the slow side, never the fast.
            self._window = min(self._window, reset - route.reset)
        route.reset = max(route.reset, reset)

    def _learn_clock(self, headers: Mapping[str, str], sent: float) -> None:
        """The server stamped `Date` (whole seconds) after the request left at `sent` and
        before its answer arrived: the server's clock is ahead of ours by something in
        [date - received, date + 1 - sent]. Corrected only when that range is off by more than
        the tolerance: a slow answer on a busy machine is not a wrong clock."""
        date = headers.get("Date")
        if not date:
            return
        try:
            stamped = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        least = stamped - self._wall()
        most = stamped + 1 - (sent or -math.inf)
        if least > SKEW_TOLERANCE_SECONDS:
            self._skew = least
        elif most < -SKEW_TOLERANCE_SECONDS:
            self._skew = most
        else:
            self._skew = 0.0

    def _now(self) -> float:
        return self._wall() + self._skew


def _parse(headers: Mapping[str, str]) -> tuple[int, int, float] | None:
    try:
        limit = int(headers["X-RateLimit-Limit"])
        remaining = int(headers["X-RateLimit-Remaining"])
        reset = float(headers["X-RateLimit-Reset"])
    except (KeyError, ValueError):
        return None
    if limit <= 0 or reset != reset:  # NaN
        return None
    return limit, max(0, remaining), reset
