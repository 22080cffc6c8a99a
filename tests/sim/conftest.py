"""Simulators for tests that must observe short-lived states (a running stop job, a reserved
name): a slower time scale keeps those states visible for a few hundred milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import check_exchanges

from runner.sim.server import SimServer

SLOW_TIME_SCALE = 0.1


@pytest.fixture
def slow_sim() -> Iterator[Callable[..., SimServer]]:
    """A factory like `make_sim`, at a time scale where intermediate states last a while."""
    started: list[SimServer] = []

    def factory(version: str = "2.34.2", **kwargs: Any) -> SimServer:
        server = SimServer(coder_version=version, time_scale=SLOW_TIME_SCALE, **kwargs)
        server.exchanges = []
        server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
    for server in started:
        check_exchanges(server)
