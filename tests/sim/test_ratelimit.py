"""The simulator's rate limiter against CONTRACT 9.3 and httprate v0.15's `limiter.go`.

Keys follow coderd/httpmw/ratelimit.go: client IP and path up to v2.31.x, the authenticated
user and path from v2.32.0-rc.0 (PrecheckAPIKey runs first there).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from stepped_time import SteppedTime

from runner.sim.clock import SimClock
from runner.sim.ratelimit import RateLimiter

#: A whole minute boundary in Unix seconds (16,666,667 minutes).
MINUTE = 60 * 16_666_667


def test_reset_is_the_end_of_the_fixed_minute_and_retry_after_is_always_60() -> None:
    fake = SteppedTime(MINUTE + 25)
    limiter = RateLimiter(2, SimClock(1.0, fake))
    first = limiter.check("10.0.0.1", "/api/v2/tasks/me")
    assert first.headers == {
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(MINUTE + 60),
    }
    fake.now = MINUTE + 59
    limiter.check("10.0.0.1", "/api/v2/tasks/me")
    denied = limiter.check("10.0.0.1", "/api/v2/tasks/me")
    assert not denied.allowed
    # One second of the window is left, yet Retry-After is the whole window, as on Coder.
    assert denied.headers["Retry-After"] == "60"
    assert denied.headers["X-RateLimit-Reset"] == str(MINUTE + 60)
    assert denied.message == "You've been rate limited for sending more than 2 requests in 1m0s."


def test_the_previous_window_still_counts_by_its_overlap() -> None:
    """httprate's sliding counter: at the start of the next window the last one is still full."""
    fake = SteppedTime(MINUTE + 1)
    limiter = RateLimiter(10, SimClock(1.0, fake))
    assert all(limiter.check("ip", "/p").allowed for _ in range(10))
    fake.now = MINUTE + 60  # a new fixed window, but the last 60 s hold 10 requests
    blocked = limiter.check("ip", "/p")
    assert not blocked.allowed
    assert blocked.headers["X-RateLimit-Reset"] == str(MINUTE + 120)
    fake.now = MINUTE + 90  # half the previous window still overlaps: 5 count
    assert [limiter.check("ip", "/p").allowed for _ in range(6)] == [True] * 5 + [False]
    fake.now = MINUTE + 181  # two windows later nothing counts
    assert limiter.check("ip", "/p").headers["X-RateLimit-Remaining"] == "9"


def test_the_window_follows_time_scale() -> None:
    fake = SteppedTime(1000.0)
    limiter = RateLimiter(1, SimClock(0.02, fake))  # 1.2 s windows
    decision = limiter.check("ip", "/p")
    assert decision.headers["X-RateLimit-Reset"] == "1000.8"  # 834 * 1.2
    assert limiter.check("ip", "/p").headers["Retry-After"] == "1.2"


def hits(server: Any, user: str, count: int) -> list[int]:
    with httpx.Client(
        base_url=server.url, headers={"Coder-Session-Token": server.tokens[user]}, timeout=10
    ) as http:
        return [http.get("/api/v2/users/me").status_code for _ in range(count)]


@pytest.mark.parametrize("version", ["2.28.11", "2.31.9"])
def test_up_to_v2_31_users_on_one_ip_share_the_budget(make_sim: Any, version: str) -> None:
    server = make_sim(version, rate_limit=3, time_scale=1.0)
    assert hits(server, "admin", 2) == [200, 200]
    assert hits(server, "alice", 2) == [200, 429]


@pytest.mark.parametrize("version", ["2.32.0-rc.0", "2.34.2"])
def test_from_v2_32_each_user_has_a_budget(make_sim: Any, version: str) -> None:
    server = make_sim(version, rate_limit=3, time_scale=1.0)
    assert hits(server, "admin", 2) == [200, 200]
    assert hits(server, "alice", 3) == [200, 200, 200]
    # Every client of one user shares that user's budget for a path.
    assert hits(server, "admin", 2) == [200, 429]


def test_from_v2_32_an_invalid_token_is_keyed_by_ip(make_sim: Any) -> None:
    server = make_sim("2.34.2", rate_limit=2, time_scale=1.0)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        codes = [http.get("/api/v2/users/me").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert hits(server, "admin", 1) == [200]
