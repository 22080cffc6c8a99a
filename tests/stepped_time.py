"""Time that moves only when a test moves it: the one fake clock of the tests.

For simulators whose states must be seen in order whatever the load on the machine
(`SimServer(now=...)`), for the simulator's and the pacer's parts on their own, and for the
client's waits (`runner.readiness.Clock`: a wait that sleeps moves this time on, instantly).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class SteppedTime:
    """Unix seconds (from `start`, default now), frozen between steps."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else start

    def __call__(self) -> float:
        with self._lock:
            return self._now

    @property
    def now(self) -> float:
        """The time; a test may set it, or add to it (`clock.now += 5`)."""
        return self()

    @now.setter
    def now(self, value: float) -> None:
        with self._lock:
            self._now = value

    def advance(self, seconds: float) -> None:
        """Move the time `seconds` (real seconds of the simulator's clock) ahead."""
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """What code under test does to wait: the time moves on at once, nothing blocks."""
        self.advance(seconds)


@contextmanager
def step_per_look(
    now: SteppedTime,
    seconds: float,
    looks: Callable[[], int],
    step: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Move `now` on `seconds` each time `looks()` (e.g. the count of a client's polls) grows,
    from a background thread, while the block runs: the client sees time advance one step per
    look (never more between two looks), however slowly the machine runs it. `step`, if
    given, is called instead to move the time (e.g. only until something happened)."""
    stop = threading.Event()

    def drive() -> None:
        seen = looks()
        while not stop.wait(0.005):
            count = looks()
            if count > seen:
                seen = count
                if step is None:
                    now.advance(seconds)
                else:
                    step()

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        yield
    finally:
        stop.set()
        driver.join()


def until(done: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Whether `done()` came true within `timeout` seconds (checked every 10 ms)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
