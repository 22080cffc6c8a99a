"""Coder's concurrent-agent capacity: at most so many chats worked on at once, the rest queued.

CHATS-CONTRACT 7.4: on unlicensed deployments from v2.37, at most 5 root chats and 10 sub-agent
chats run at once, deployment-wide; the others stay `running` without being worked on, and only
a single-chat `GET` says so (`queued_for_capacity`). Coder's source (erickirt/coder c9a1e2bce,
commit 119f2b1dd "limit concurrent chat agents with pooled admission", 2026-08-18):

- two independent pools, root and sub-agent (`coderd/x/chatd/agentadmission.go`:
  `defaultMaxConcurrentRootAgents = 5`, `defaultMaxConcurrentSubagents = 10`);
- a worker takes up the running, unowned chats oldest first: `ORDER BY updated_at ASC, id ASC`
  per pool (`GetChatWorkerAcquisitionCandidates` in `coderd/database/queries/chats.sql`), and
  `Admit` refuses one while its pool is full (`coderd/x/chatd/worker.go`, `acquireCandidate`);
- interrupting chats bypass admission, so a queued chat can be stopped (worker.go,
  `acquireOnce`);
- `queued_for_capacity` is true for a `running`, unarchived, unowned chat whose pool is full
  (`GetChatQueuedForCapacity`, chats.sql; `ChatQueuedForCapacity` in `coderd/x/chatd/chatd.go`).

The simulator has no background worker: `settle` replays, in time order, every turn ending and
every admission it frees up to `now`, before any operation reads or writes a chat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runner.sim.chats.generation import ChatGeneration
from runner.sim.chats.record import ChatRecord
from runner.sim.clock import SimClock

#: Coder's caps on an unlicensed deployment (agentadmission.go).
UNLICENSED = (5, 10)


@dataclass(frozen=True)
class Capacity:
    """How many root and sub-agent chats are worked on at once, deployment-wide."""

    root: int
    subagent: int


def chat_capacity_of(gen: ChatGeneration, caps: tuple[int, int] | None) -> Capacity | None:
    """The caps asked for, on a release that has them (119f2b1dd, 2026-08-18: v2.37, cut
    2026-09-01, CHATS-CONTRACT 7 and 7.4); ValueError on an older one or a cap below 1.

    Off unless asked for: the simulator does not model licences, and a licensed deployment
    (without an Agent Hours hard limit) is uncapped (119f2b1dd's description)."""
    if caps is None:
        return None
    if not gen.capacity:
        raise ValueError(f"v{gen.version} has no chat capacity limit (v2.37 and later have)")
    root, subagent = caps
    if root < 1 or subagent < 1:
        raise ValueError("chat capacity must be at least 1 root and 1 sub-agent chat")
    return Capacity(root, subagent)


def settle(
    chats: Sequence[ChatRecord],
    now: float,
    capacity: Capacity,
    clock: SimClock,
    next_id: Callable[[], int],
) -> None:
    """Settle every chat up to `now`: each turn that ends frees its slot for the oldest
    queued turn of its pool, at the time it ends."""
    at = float("-inf")  # the time settled so far: every earlier end is replayed
    while True:
        _admit(chats, capacity, at)
        ending = [c for c in chats if c.turn is not None and c.turn.finishes_at <= now]
        if not ending:
            return
        first = min(ending, key=_ends_at)
        at = _ends_at(first)[0]
        first.advance(at, clock, next_id, hold=True)


def _ends_at(chat: ChatRecord) -> tuple[float, str]:
    return (chat.turn.finishes_at if chat.turn else float("inf"), chat.id)


def _admit(chats: Sequence[ChatRecord], capacity: Capacity, at: float) -> None:
    """Admit queued turns, oldest `updated_at` first (then id), while their pool has room: at
    `at` (a slot freed then), or when the turn was queued if that is later."""
    for sub in (False, True):
        pool = [c.turn for c in chats if bool(c.parent_id) == sub and c.turn is not None]
        busy = sum(1 for turn in pool if turn.admitted_at is not None)
        queued = sorted(
            (
                c
                for c in chats
                if bool(c.parent_id) == sub and c.turn and c.turn.queued_for_capacity
            ),
            key=lambda c: (c.updated_at, c.id),
        )
        free = (capacity.subagent if sub else capacity.root) - busy
        for chat in queued[: max(0, free)]:
            assert chat.turn is not None
            chat.turn.admit(max(chat.turn.start, at))
