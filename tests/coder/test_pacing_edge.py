"""The pacer where Coder's limiter counts a request: on arrival, not when the client granted it.

httprate counts a request in the window it reaches the server in (limiter.go v0.15, CONTRACT
9.3), so a request granted just before a window's edge and delayed on the way (a busy machine,
a slow network) is counted in the next window, and one whose answer is lost may have been
counted in either. These tests hold such a request on the simulator (`sim.arrivals`) while a
stepped clock crosses the edge, then go on sending: the simulator's own log must show no 429.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest
from stepped_time import SteppedTime

from runner.coder.config import Connection
from runner.coder.pacing import RatePacer
from runner.coder.transport import ApiTransport
from runner.errors import TasksError
from runner.sim.clock import SimClock
from runner.sim.ratelimit import RateLimiter
from runner.sim.server import SimServer

LIMIT = 4
WINDOW = 60.0  # time scale 1: Coder's own minute
PATH = "/api/v2/users/me"
EVENTS = 30.0  # seconds to wait for an event on the server; a timeout is a failure


@pytest.fixture
def edge() -> Iterator[tuple[SimServer, SteppedTime, ApiTransport]]:
    now = SteppedTime()
    # 50 s into a window whose previous one saw nothing: 10 s before the edge.
    start = math.floor(now() / WINDOW) * WINDOW + WINDOW
    now.advance(start + 50 - now())
    server = SimServer(coder_version="2.34.2", rate_limit=LIMIT, now=now)
    server.start()
    transport = ApiTransport(
        Connection(url=server.url, token=server.token, simulated=True),
        sleep=now.advance,  # the pacer's waits move the one clock both sides read
        wall=now,
        max_retries=0,  # the lost answer stays lost: nothing re-counts the request
    )
    yield server, now, transport
    transport.close()
    server.stop()


def held_across_the_edge(server: SimServer, now: SteppedTime, transport: ApiTransport) -> None:
    """Send one request at 59.5 s that the server counts at 60.5 s, its answer lost."""
    now.advance(9.5)
    server.faults.add(method="GET", path=PATH + "$", when="after", times=1, status=0)
    server.arrivals.hold("GET", PATH)
    lost: list[BaseException] = []

    def send() -> None:
        try:
            transport.request("GET", PATH)
        except TasksError as exc:
            lost.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    assert server.arrivals.wait("GET", PATH, count=LIMIT, timeout=EVENTS)
    now.advance(1.0)  # the next window starts while the request is on the server
    assert server.arrivals.release(timeout=EVENTS)
    sender.join(EVENTS)
    assert not sender.is_alive() and len(lost) == 1


def test_a_request_counted_in_the_next_window_with_its_answer_lost_meets_no_429(
    edge: tuple[SimServer, SteppedTime, ApiTransport],
) -> None:
    server, now, transport = edge
    for _ in range(LIMIT - 1):
        transport.request("GET", PATH)
    held_across_the_edge(server, now, transport)
    # Go on through the next window and into the one after it.
    started = now()
    while now() < started + 2 * WINDOW:
        transport.request("GET", PATH)
    assert [r["status"] for r in server.requests if r.get("fault")] == [200]  # answer lost
    statuses = [r["status"] for r in server.requests]
    assert len(statuses) >= 2 * LIMIT  # the test went on into later windows
    assert 429 not in statuses, statuses


def test_a_request_in_flight_across_the_edge_counts_in_the_window_it_reaches() -> None:
    """Parallel workers: a request granted before the edge reaches the server after it, and its
    answer is still on the way while another worker sends in the new window."""
    clock = SteppedTime(10_000_000 * WINDOW + 50.0)  # 10 s before an edge; nothing before

    limit = 3
    limiter = RateLimiter(limit, SimClock(1.0, clock))
    pacer = RatePacer(wall=clock, sleep=clock.sleep)
    statuses: list[bool] = []

    def send() -> None:
        grant = pacer.acquire(PATH)
        decision = limiter.check("10.0.0.1", PATH)
        statuses.append(decision.allowed)
        if decision.allowed:
            pacer.observe(PATH, grant, decision.headers)
        else:
            pacer.refused(PATH, grant, decision.headers)

    for _ in range(limit - 1):
        send()
    clock.now += 9.5
    late = pacer.acquire(PATH)  # granted at 59.5 s
    clock.now += 1.0
    arrived = limiter.check("10.0.0.1", PATH)  # counted at 60.5 s, in the next window
    for _ in range(2):
        send()  # another worker, while the late answer is on its way back
    pacer.observe(PATH, late, arrived.headers)
    while clock.now < 10_000_000 * WINDOW + 60 + 2 * WINDOW:
        send()
    assert arrived.allowed
    assert len(statuses) >= 2 * limit
    assert all(statuses), statuses
