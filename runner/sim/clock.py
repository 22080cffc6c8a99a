"""Simulated time: real wall-clock instants, with every simulated duration scaled."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone


def steady_wall_time() -> Callable[[], float]:
    """Unix seconds that never go backwards: the wall clock at start plus monotonic time.

    Every state is read off timestamps, so a wall-clock step (NTP) must not make a finished
    build run again.
    """
    wall, steady = time.time(), time.monotonic()
    return lambda: wall + (time.monotonic() - steady)


class SimClock:
    """Reads the time and converts simulated seconds into real seconds (`time_scale`)."""

    def __init__(self, time_scale: float, now: Callable[[], float] | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self._now = now or steady_wall_time()

    def now(self) -> float:
        """The current instant, as Unix seconds."""
        return self._now()

    def span(self, simulated_seconds: float) -> float:
        """Real seconds that `simulated_seconds` take."""
        return simulated_seconds * self.time_scale


def rfc3339(instant: float) -> str:
    """Unix seconds as Coder prints timestamps: UTC, microseconds, `Z`."""
    moment = datetime.fromtimestamp(instant, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def go_duration(seconds: float) -> str:
    """`seconds` formatted like Go's time.Duration.String (`1m0s`, `1.2s`, `500ms`)."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        millis = seconds * 1000
        return f"{_trim(millis)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{_trim(round(secs, 9))}s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
