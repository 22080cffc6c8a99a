"""Relative times and stamps in Go's formats, as Coder's CLI prints them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from runner.render.times import ago, go_duration, go_stamp, rfc3339

NOW = datetime(2026, 3, 4, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=999), "0s"),
        (timedelta(seconds=42, milliseconds=700), "42s"),
        (timedelta(minutes=5, seconds=3), "5m3s"),
        (timedelta(minutes=1), "1m0s"),
        (timedelta(hours=2), "2h0m0s"),
        (timedelta(hours=49, minutes=12, seconds=3), "49h12m3s"),
        (timedelta(seconds=-2), "-2s"),
        (timedelta(seconds=-2, milliseconds=-600), "-2s"),
        (timedelta(milliseconds=-400), "0s"),
        (timedelta(minutes=-61, seconds=-1), "-1h1m1s"),
    ],
)
def test_go_duration_truncates_to_seconds(delta: timedelta, expected: str) -> None:
    assert go_duration(delta) == expected


def test_ago_uses_the_given_now() -> None:
    assert ago(NOW - timedelta(seconds=42), NOW) == "42s ago"
    assert ago(NOW + timedelta(seconds=2), NOW) == "-2s ago"  # server clock ahead


def test_go_stamp_pads_the_day_with_a_space() -> None:
    assert go_stamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "Jan  2 03:04:05"
    assert go_stamp(datetime(2026, 11, 28, 18, 40, 9, tzinfo=timezone.utc)) == "Nov 28 18:40:09"


def test_go_stamp_keeps_the_zone_of_the_time() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert go_stamp(datetime(2026, 5, 9, 23, 0, 0, tzinfo=plus_two)) == "May  9 23:00:00"


def test_rfc3339_drops_fractions_and_writes_z_for_utc() -> None:
    assert rfc3339(datetime(2025, 11, 10, 9, 12, 33, 123456, tzinfo=timezone.utc)) == (
        "2025-11-10T09:12:33Z"
    )
    offset = timezone(timedelta(hours=-5))
    assert rfc3339(datetime(2025, 1, 1, 0, 0, 0, tzinfo=offset)) == "2025-01-01T00:00:00-05:00"
    assert rfc3339(None) == ""
