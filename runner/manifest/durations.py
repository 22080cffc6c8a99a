"""Manifest durations: the one grammar (`runner.durations`), or a number of seconds."""

from __future__ import annotations

from runner import durations
from runner.manifest.wording import quote

format_duration = durations.format_seconds


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError with a message that says how to write one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("expected a duration such as 90s, 30m or 1h30m")
    if isinstance(value, (int, float)):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError("a duration must be a finite number of seconds, at least 0")
        return float(value)
    try:
        return durations.parse(value)
    except ValueError:
        raise ValueError(
            f"{quote(value)} is not a duration; write it like 90s, 30m or 1h30m"
        ) from None
