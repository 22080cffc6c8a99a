"""A response is freed as soon as its reader drops it, not when the cyclic collector next runs.

While waiting on thousands of tasks, each poll's list body is megabytes; the transport must not
leave it in a reference cycle (httpx binds a response's stream to the response), or the bodies
of many polls pile up until a full collection, which a process holding that many objects runs
rarely (bench/waiting.py: peak memory).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from runner.coder.config import Connection
from runner.coder.transport import ApiTransport


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_read_response_is_freed_by_reference_counting_alone(
    sim: Any, collector_off: None
) -> None:
    transport = ApiTransport(Connection(url=sim.url, token=sim.token, simulated=True))
    try:
        response = transport.request("GET", "/api/v2/buildinfo")
        assert "version" in response.json()
        gone = weakref.ref(response)
        del response
        assert gone() is None
    finally:
        transport.close()
