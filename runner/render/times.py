"""Time formatting the way Coder's Go CLI prints it.

Go prints durations as `2h0m0s`, `5m3s`, `42s` (no day unit) and stamps as `Jan _2 15:04:05`;
the CLI's relative columns are a duration truncated to whole seconds plus ` ago`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def go_duration(delta: timedelta) -> str:
    """A duration truncated toward zero to whole seconds, in Go's `time.Duration` format."""
    # Work in microseconds so truncation toward zero is exact for negative values too.
    micros = delta // timedelta(microseconds=1)
    seconds = abs(micros) // 1_000_000
    if seconds == 0:
        return "0s"
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def ago(moment: datetime, now: datetime | None = None) -> str:
    """`now - moment` as Coder's CLI shows it: `42s ago`, `2h0m0s ago`, `-2s ago`."""
    current = now if now is not None else datetime.now(timezone.utc)
    return f"{go_duration(current - moment)} ago"


def go_stamp(moment: datetime) -> str:
    """Go's `time.Stamp` layout, `Jan _2 15:04:05` (day padded with a space), in `moment`'s zone."""
    return f"{_MONTHS[moment.month - 1]} {moment.day:>2} {moment:%H:%M:%S}"


def rfc3339(moment: datetime | None) -> str:
    """Go's `time.RFC3339` layout: whole seconds, `Z` for UTC, else the numeric offset."""
    if moment is None:
        return ""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
