"""The pacer against the simulator's limiter (httprate's algorithm), on a fake clock.

Deterministic and instant: every request goes through `RatePacer` and then `RateLimiter`, as
a client's request goes through Coder's middleware (CONTRACT 9.3).
"""

from __future__ import annotations

import pytest
from stepped_time import SteppedTime

from runner.coder.pacing import RatePacer
from runner.sim.clock import SimClock
from runner.sim.ratelimit import RateLimiter


def run(count: int, limit: int, time_scale: float) -> tuple[int, float]:
    """(429s, seconds taken) for `count` back-to-back requests on one path."""
    clock = SteppedTime(1_000_000_010.0)  # 10 s into a minute: the first window is short
    limiter = RateLimiter(limit, SimClock(time_scale, clock))
    pacer = RatePacer(wall=clock, sleep=clock.sleep)
    refused, started = 0, clock.now
    for _ in range(count):
        grant = pacer.acquire("/api/v2/tasks/me")
        decision = limiter.check("10.0.0.1", "/api/v2/tasks/me")
        if decision.allowed:
            pacer.observe("/api/v2/tasks/me", grant, decision.headers)
        else:
            refused += 1
            pacer.refused("/api/v2/tasks/me", grant, decision.headers)
        clock.now += 0.002  # each request takes 2 ms
    return refused, clock.now - started


def test_1000_creates_at_512_per_minute_meet_no_429_within_the_limits_bound() -> None:
    refused, took = run(1000, 512, 1.0)
    bound = 50 + (1000 - 512) * 60 / 512  # the first window's rest, then 512 per minute
    assert refused == 0
    assert took <= 1.1 * bound, (took, bound)


@pytest.mark.parametrize(("limit", "scale"), [(40, 0.02), (12, 0.05)])
def test_a_scaled_window_is_learnt_and_paced_without_429(limit: int, scale: float) -> None:
    refused, took = run(5 * limit, limit, scale)
    window = 60 * scale
    assert refused == 0
    # Before the window is learnt, one step is taken at Coder's 60 s.
    assert took <= window + 4 * window * 1.1 + 60 * 1.05 / limit, took


def test_without_rate_headers_nothing_is_paced() -> None:
    clock = SteppedTime(1_000_000_010.0)  # 10 s into a minute: the first window is short
    pacer = RatePacer(wall=clock, sleep=clock.sleep)
    for _ in range(100):
        grant = pacer.acquire("/x")
        pacer.observe("/x", grant, {})
    assert clock.now == 1_000_000_010.0


def test_an_answer_counted_before_an_earlier_grant_does_not_overstate_the_budget() -> None:
    """Two parallel requests reach the server in the other order than they were granted.

    httprate counts requests and computes `X-RateLimit-Remaining` in arrival order under one
    lock (limiter.go, v0.15), so the later grant's answer says one more remains than the
    earlier grant's, though both were counted. Learnt last, it must not be taken at its word:
    the request answered while it was on the way may have been counted after it.
    """
    clock = SteppedTime(1_000_000_010.0)  # 10 s into a minute: the first window is short
    clock.now = 1_000_000_020.0  # the start of a one-minute window
    limiter = RateLimiter(10, SimClock(1.0, clock))
    pacer = RatePacer(wall=clock, sleep=clock.sleep)
    path = "/api/v2/tasks/me"
    for _ in range(10):  # the first window's whole budget
        grant = pacer.acquire(path)
        pacer.observe(path, grant, limiter.check("10.0.0.1", path).headers)
    clock.now += 90  # half the next window: half the previous window's weight is gone
    first, second = pacer.acquire(path), pacer.acquire(path)
    to_second = limiter.check("10.0.0.1", path)  # the server counts `second` first,
    to_first = limiter.check("10.0.0.1", path)
    pacer.observe(path, first, to_first.headers)  # and `first`'s answer comes back first
    pacer.observe(path, second, to_second.headers)
    assert to_second.headers["X-RateLimit-Remaining"] == "4"
    # What the pacer grants without waiting goes out at once, as parallel workers send it;
    # no answer comes back before the server counts them all.
    answers = []
    while not pacer.acquire(path).waited:
        answers.append(limiter.check("10.0.0.1", path))
    assert [a.headers["X-RateLimit-Remaining"] for a in answers if a.allowed] == ["2", "1", "0"]
    assert [a for a in answers if not a.allowed] == []
