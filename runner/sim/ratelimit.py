"""Coder's API rate limiter (CONTRACT 9.3): go-chi/httprate's sliding window counter.

Time is cut into fixed one-minute windows (scaled by `--time-scale`). A key's rate is its count
in the current window plus its previous window's count weighted by how much of that window still
overlaps the last minute. Headers as httprate v0.15 sends them (limiter.go): `X-RateLimit-Limit`,
`X-RateLimit-Remaining`, `X-RateLimit-Reset` = the end of the current fixed window, and on a
429 `Retry-After` = the whole window (always 60 on a real server).

The key is the exact URL path plus the client IP up to v2.31, and plus the authenticated user
from v2.32.0-rc.0, where `PrecheckAPIKey` runs before the limiter (coderd/httpmw/ratelimit.go at
v2.32.0-rc.0); a request without a valid token is still keyed by IP there.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from runner.sim.clock import SimClock, go_duration

WINDOW_SECONDS = 60.0  # simulated


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    headers: dict[str, str]
    message: str = ""


def retry_after_text(seconds: float) -> str:
    """Seconds for a header: an integer when whole (always, unscaled), else a short decimal."""
    if abs(seconds - round(seconds)) < 1e-6:
        return str(round(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


class RateLimiter:
    """`limit` requests per window per key; a limit <= 0 turns the limiter off.

    `user_for_token` (v2.32+) maps a session token to its user id, or None when it is not
    valid; without it every key is the client IP.
    """

    def __init__(
        self,
        limit: int,
        clock: SimClock,
        *,
        user_for_token: Callable[[str], str | None] | None = None,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.window = clock.span(WINDOW_SECONDS)
        self._user_for_token = user_for_token
        # key -> (start of the window counted in `current`, current count, previous count)
        self._counts: dict[tuple[str, str], tuple[float, int, int]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def key(self, client_ip: str, token: str = "") -> str:
        """Who is counted: the user from v2.32 when the token is valid, else the client IP."""
        if self._user_for_token is not None and token:
            user = self._user_for_token(token)
            if user is not None:
                return f"user:{user}"
        return f"ip:{client_ip}"

    def check(self, client_ip: str, path: str, token: str = "") -> RateDecision:
        """Count one request for (caller, path) and say whether it may proceed."""
        if not self.enabled:
            return RateDecision(True, {})
        key = (self.key(client_ip, token), path)
        now = self.clock.now()
        start = math.floor(now / self.window) * self.window
        with self._lock:
            counted_start, current, previous = self._counts.get(key, (start, 0, 0))
            if counted_start != start:
                # One window later the current count becomes the previous one; later, nothing.
                adjacent = abs(start - counted_start - self.window) < self.window / 2
                previous = current if adjacent else 0
                current = 0
            weight = (self.window - (now - start)) / self.window
            rate = round(previous * weight + current)
            allowed = rate + 1 <= self.limit
            if allowed:
                current += 1
            self._counts[key] = (start, current, previous)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - rate - (1 if allowed else 0)),
            "X-RateLimit-Reset": retry_after_text(start + self.window),
        }
        if allowed:
            return RateDecision(True, headers)
        headers["Retry-After"] = retry_after_text(self.window)
        message = (
            f"You've been rate limited for sending more than {self.limit} requests in "
            f"{go_duration(self.window)}."
        )
        return RateDecision(False, headers, message)
