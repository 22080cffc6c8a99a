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


def test_a_batch_listing_keeps_the_decoded_fields_and_lets_each_body_go(sim: Any) -> None:
    """`keep_raw=False` (what a batch polls with): the records answer every field a batch reads,
    and none holds its body, so thousands of polled tasks do not keep their decoded JSON."""
    from runner.coder.client import CoderClient

    client = CoderClient(Connection(url=sim.url, token=sim.token, simulated=True))
    try:
        version = client.get_template_version("coder", "claude-code", "v2")
        made = client.create_task(
            owner="me", template_version_id=version.id, prompt="Add auth", name="kept-fields"
        )
        kept = {t.id: t for t in client.list_tasks(owner="me")}
        light = {t.id: t for t in client.list_tasks(owner="me", keep_raw=False)}
    finally:
        client.close()
    assert made.id in light
    assert dict(light[made.id].raw) == {}
    assert kept[made.id].raw  # the imperative commands' `-o json` still has the whole body
    # The agent works between the two reads, so only the fields it cannot change are compared.
    stable = ("id", "name", "owner_name", "template_id", "workspace_id", "initial_prompt")
    assert [getattr(light[made.id], f) for f in stable] == [getattr(made, f) for f in stable]
