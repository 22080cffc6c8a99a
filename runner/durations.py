"""The one duration grammar, for flags and manifests alike: Go's (`90s`, `1h30m`, `250ms`, `1us`).

Coder's CLI parses its duration flags with Go's `time.ParseDuration`, so the manifest accepts the
same spellings (without a sign: no wait is negative). The manifest schema's `pattern` for
durations is `PATTERN`; a test keeps the two equal.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_UNIT = r"(?:ns|us|µs|ms|s|m|h)"
#: A whole duration: `0`, or one or more number-unit pairs.
PATTERN = rf"^(?:0|(?:{_NUMBER}{_UNIT})+)$"

_WHOLE = re.compile(PATTERN)
_PART = re.compile(rf"({_NUMBER})({_UNIT})")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@lru_cache(maxsize=1024)  # a batch repeats the same few durations thousands of times
def parse(text: str) -> float:
    """Seconds in `text` (surrounding blanks ignored); ValueError when it is not a duration."""
    value = text.strip()
    if not _WHOLE.fullmatch(value):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _SECONDS[unit] for number, unit in _PART.findall(value))


def format_seconds(seconds: float) -> str:
    """The shortest spelling of `seconds`: 1h30m, 90s -> 1m30s, 0.5 -> 500ms."""
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")
