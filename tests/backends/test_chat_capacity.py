"""Finding the chats queued for capacity with a bounded number of single-chat reads.

Coder takes queued chats up oldest first (`updated_at`, then id: erickirt/coder c9a1e2bce,
`GetChatWorkerAcquisitionCandidates`), so the probe's candidates, ordered by when their turn was
queued, are those taken up, then those still queued. `server` below plays that deployment.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from runner.backends.chat_capacity import PROBES_PER_POLL, CapacityProbe

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


class Server:
    """`n` running chats created a second apart, the first `started` of them taken up."""

    def __init__(self, n: int, started: int) -> None:
        self.ids = [f"chat-{i:04d}" for i in range(n)]
        self.started = started
        self.reads: list[str] = []

    def rows(self) -> list[tuple[str, datetime | None]]:
        # Listed newest update first, as Coder's list sorts them.
        return [(chat_id, T0 + timedelta(seconds=i)) for i, chat_id in enumerate(self.ids)][::-1]

    def is_queued(self, chat_id: str) -> bool:
        self.reads.append(chat_id)
        return self.ids.index(chat_id) >= self.started


@pytest.mark.parametrize(("n", "started"), [(1, 0), (1, 1), (20, 5), (50, 5), (200, 0), (7, 6)])
def test_one_poll_finds_the_boundary_within_its_bound(n: int, started: int) -> None:
    server = Server(n, started)
    queued = CapacityProbe().queued(server.rows(), (), server.is_queued)
    assert queued == set(server.ids[started:])
    assert len(server.reads) <= min(PROBES_PER_POLL, 2 + math.ceil(math.log2(n)))


def test_an_uncapped_deployment_costs_one_read_per_poll_with_new_chats() -> None:
    server = Server(500, started=500)
    probe = CapacityProbe()
    assert probe.queued(server.rows(), (), server.is_queued) == set()
    assert len(server.reads) == 1  # the newest was taken up: so was every older one
    assert probe.queued(server.rows(), (), server.is_queued) == set()
    assert len(server.reads) == 1  # a chat seen taken up is not read again in its turn


def test_polls_follow_the_queue_as_chats_are_taken_up() -> None:
    server = Server(50, started=5)
    probe = CapacityProbe()
    reads = []
    while server.started < 50:
        before = len(server.reads)
        assert probe.queued(server.rows(), (), server.is_queued) == set(
            server.ids[server.started :]
        )
        reads.append(len(server.reads) - before)
        server.started += 5  # a round ends: five more taken up, oldest first
    assert max(reads) <= 2 + math.ceil(math.log2(45)), reads


def test_more_candidates_than_reads_leave_the_rest_as_they_were() -> None:
    server = Server(5000, started=2500)
    probe = CapacityProbe()
    queued = probe.queued(server.rows(), (), server.is_queued)
    assert len(server.reads) == PROBES_PER_POLL
    assert queued <= set(server.ids[2500:])  # never a chat taken up
    assert len(queued) > 2000


def test_a_new_turn_is_probed_again_and_idle_chats_are_forgotten() -> None:
    server = Server(3, started=3)
    probe = CapacityProbe()
    probe.queued(server.rows(), (), server.is_queued)
    server.started = 2  # the last chat got a follow-up, queued this time
    probe.new_turn(server.ids[2])
    assert probe.queued(server.rows(), (), server.is_queued) == {server.ids[2]}
    assert probe.queued([], [server.ids[2]], server.is_queued) == set()  # its turn ended


class Rounds:
    """A fanout `width` wide that counts its rounds of reads (the reads made at once)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.sizes: list[int] = []

    def __call__(self, calls: Any) -> list[Any]:
        assert len(calls) <= self.width
        self.sizes.append(len(calls))
        return [call() for call in calls]


@pytest.mark.parametrize("n", [3, 20, 50, 100, 300])
@pytest.mark.parametrize("width", [2, 4, 20])
def test_reads_at_once_take_fewer_rounds_and_find_what_one_at_a_time_finds(
    n: int, width: int
) -> None:
    for started in range(n + 1):
        alone, wide = Server(n, started), Server(n, started)
        one, many = Rounds(1), Rounds(width)
        found = CapacityProbe().queued(alone.rows(), (), alone.is_queued, one)
        assert CapacityProbe().queued(wide.rows(), (), wide.is_queued, many) == found
        assert len(wide.reads) == len(set(wide.reads)) <= PROBES_PER_POLL
        assert len(many.sizes) <= len(one.sizes)
    assert many.sizes[0] == 1  # the newest alone: one read where nothing is capped


def test_twenty_chats_five_taken_up_are_found_in_three_rounds_instead_of_six() -> None:
    sizes = []
    for width in (1, 4):
        server, rounds = Server(20, started=5), Rounds(width)
        assert CapacityProbe().queued(server.rows(), (), server.is_queued, rounds) == set(
            server.ids[5:]
        )
        sizes.append(rounds.sizes)
    assert sizes == [[1] * 6, [1, 3, 3]]  # the newest alone, then as wide as 10 reads afford
