"""The pacer and the server's `Date`: a wrong client clock is corrected, a slow answer is not.

Go's net/http stamps `Date` with whole seconds when it writes the response headers
(net/http/server.go), and httprate's windows follow the same clock (CONTRACT 9.3). So a `Date`
read on a busy machine a second or two after it was stamped looks like a client clock ahead of
the server's, though both clocks agree. Time here is a plain number both sides read, moved only
by the test and by the pacer's sleeps.
"""

from __future__ import annotations

import math
from email.utils import formatdate

from stepped_time import SteppedTime

from runner.coder.pacing import RatePacer
from runner.sim.clock import SimClock
from runner.sim.ratelimit import RateLimiter

PATH = "/api/experimental/tasks"


class Deployment:
    """One path of a rate-limited server and one client pacing on its answers, with the
    client's clock `client_ahead` seconds ahead of the server's."""

    def __init__(self, limit: int, time_scale: float, client_ahead: float = 0.0) -> None:
        self.clock = SteppedTime(1_000_000 * 60.0)  # a window edge, whatever the scale
        self.limiter = RateLimiter(limit, SimClock(time_scale, self.clock))
        self.pacer = RatePacer(wall=lambda: self.clock.now + client_ahead, sleep=self.clock.sleep)
        self.allowed: list[bool] = []

    def send(self, answer_takes: float = 0.0) -> None:
        """One request, counted on arrival; its answer read `answer_takes` seconds later."""
        grant = self.pacer.acquire(PATH)
        decision = self.limiter.check("10.0.0.1", PATH)
        headers = {**decision.headers, "Date": formatdate(self.clock.now, usegmt=True)}
        self.clock.now += answer_takes
        self.allowed.append(decision.allowed)
        if decision.allowed:
            self.pacer.observe(PATH, grant, headers)
        else:
            self.pacer.refused(PATH, grant, headers)


def test_an_answer_read_late_is_not_taken_for_a_wrong_client_clock() -> None:
    # Twelve requests per 1.2 s window: the e2e tests' rate limit at their time scale.
    server = Deployment(limit=12, time_scale=0.02)
    for _ in range(40):
        server.send()
        server.clock.now += 0.01
    # Stamped at .9 of a second, read 1.5 s later: `Date` is 2.4 s behind the client's clock.
    server.clock.now = math.floor(server.clock.now) + 0.9
    server.send(answer_takes=1.5)
    started = server.clock.now
    while server.clock.now < started + 3 * server.limiter.window:
        server.send()
        server.clock.now += 0.01
    assert all(server.allowed), server.allowed.index(False)
    assert len(server.allowed) > 40 + 2 * 12  # paced near the limit through three windows


def test_a_client_clock_half_a_minute_ahead_is_corrected() -> None:
    # Uncorrected, the client would take each window for over 30 s early (a 429 at the 5th).
    server = Deployment(limit=4, time_scale=1.0, client_ahead=30.0)
    started = server.clock.now
    while server.clock.now < started + 3 * server.limiter.window:
        server.send(answer_takes=0.2)
    assert all(server.allowed), server.allowed.index(False)
    assert len(server.allowed) >= 2 * 4  # paced, not stalled
