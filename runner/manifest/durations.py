"""Durations as manifests write them: `90s`, `30m`, `1h30m`, `500ms`, or a number of seconds."""

from __future__ import annotations

import re
from functools import lru_cache

from runner.manifest.wording import quote

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h))+")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds in `value`; ValueError with a message that says how to write one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("expected a duration such as 90s, 30m or 1h30m")
    if isinstance(value, (int, float)):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError("a duration must be a finite number of seconds, at least 0")
        return float(value)
    return _parse_text(value)


@lru_cache(maxsize=1024)  # a batch repeats the same few durations thousands of times
def _parse_text(value: str) -> float:
    text = value.strip()
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{quote(value)} is not a duration; write it like 90s, 30m or 1h30m")
    return sum(float(number) * _SECONDS[unit] for number, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest manifest spelling of `seconds`: 1h30m, 90s -> 1m30s, 0.5 -> 500ms."""
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")
