"""Coder's API rate limiter: a sliding window per (client IP, exact URL path)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from runner.sim.clock import SimClock, go_duration

WINDOW_SECONDS = 60.0  # simulated


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    headers: dict[str, str]
    message: str = ""


def retry_after_text(seconds: float) -> str:
    """`Retry-After` for a (scaled) window: an integer when whole, else a short decimal."""
    if abs(seconds - round(seconds)) < 1e-9:
        return str(round(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


class RateLimiter:
    """`limit` requests per window per key; a limit <= 0 turns the limiter off."""

    def __init__(self, limit: int, clock: SimClock) -> None:
        self.limit = limit
        self.clock = clock
        self.window = clock.span(WINDOW_SECONDS)
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def check(self, client_ip: str, path: str) -> RateDecision:
        """Count one request for (client_ip, path) and say whether it may proceed."""
        if not self.enabled:
            return RateDecision(True, {})
        now = self.clock.now()
        with self._lock:
            hits = self._hits.setdefault((client_ip, path), deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            oldest = hits[0] if hits else now
            remaining = max(self.limit - len(hits), 0)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(oldest + self.window)),
        }
        if allowed:
            return RateDecision(True, headers)
        headers["Retry-After"] = retry_after_text(self.window)
        message = (
            f"You've been rate limited for sending more than {self.limit} requests in "
            f"{go_duration(self.window)}."
        )
        return RateDecision(False, headers, message)
