"""Which of a batch's running chats wait for a capacity slot, in a bounded number of reads.

An unlicensed Coder v2.37+ works on at most 5 root chats at once; the others stay `running`,
untouched, and only a single-chat read says so (`queued_for_capacity`; the list never does:
CHATS-CONTRACT 7.4). Coder takes queued chats up oldest first (`ORDER BY updated_at ASC, id
ASC` per pool: `GetChatWorkerAcquisitionCandidates` in `coderd/database/queries/chats.sql`,
erickirt/coder c9a1e2bce, commit 119f2b1dd), and a queued chat is not touched until then. So,
ordered by when their turn was queued, the running chats not yet seen worked on are first those
taken up and then those still queued: one read tells on which side of that boundary a chat is.

Each poll reads the newest candidate (taken up: so is every older one, one read in all on a
deployment without caps), then the oldest (queued: so is every newer one), then searches the
rest: at most `PROBES_PER_POLL` reads per poll, enough for 2 + log2(256) candidates. Only chats
that are `running` and not yet seen worked on in their turn are candidates, and a chat seen
taken up is not read again until a new turn of it begins.

Reads made at once (a `Fanout` wider than one) split the rest into more parts per round, so a
poll waits on fewer rounds of reads; a round is only as wide as the reads left can afford, so
the boundary is found whenever a binary search would find it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import partial

from runner.fanout import IN_ORDER, Fanout

#: Single-chat reads per poll at most, whatever the number of chats.
PROBES_PER_POLL = 10

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class CapacityProbe:
    """What the reads so far showed: chats taken up in this turn, and chats still queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: set[str] = set()
        self._queued: set[str] = set()
        self._keys: dict[str, tuple[datetime, str]] = {}  # when each chat's turn was queued

    def new_turn(self, chat_id: str) -> None:
        """A message went to the chat: its next turn may be queued again."""
        with self._lock:
            self._started.discard(chat_id)
            self._keys.pop(chat_id, None)

    def queued(
        self,
        running: Sequence[tuple[str, datetime | None]],
        idle: Sequence[str],
        is_queued: Callable[[str], bool],
        fanout: Fanout = IN_ORDER,
    ) -> set[str]:
        """The ids among `running` (id, `updated_at` of its row) that wait for capacity, after
        at most `PROBES_PER_POLL` calls of `is_queued` (a single-chat read), made through
        `fanout`; `idle` chats' turns are over."""
        with self._lock:
            for chat_id in idle:
                self._forget(chat_id)
            candidates = [
                (self._key(chat_id, at), chat_id)
                for chat_id, at in running
                if chat_id not in self._started
            ]
        order = [chat_id for _, chat_id in sorted(candidates)]
        started, queued = _boundary(order, is_queued, fanout)
        with self._lock:
            self._started.update(started)
            self._queued.difference_update(started)
            self._queued.update(queued)
            return {chat_id for chat_id in order if chat_id in self._queued}

    def _key(self, chat_id: str, at: datetime | None) -> tuple[datetime, str]:
        # First seen in this turn: a queued chat's `updated_at` does not move until it is taken up.
        return self._keys.setdefault(chat_id, (at or _EPOCH, chat_id))

    def _forget(self, chat_id: str) -> None:
        self._started.discard(chat_id)
        self._queued.discard(chat_id)
        self._keys.pop(chat_id, None)


def _boundary(
    order: list[str], is_queued: Callable[[str], bool], fanout: Fanout
) -> tuple[list[str], list[str]]:
    """Split `order` (oldest first) into taken-up and queued chats by a search in rounds of
    reads made at once; chats left undecided when the reads run out are in neither."""
    lo, hi = 0, len(order)  # order[:lo] taken up, order[hi:] queued
    left = PROBES_PER_POLL
    first = True
    while lo < hi and left > 0:
        if first:
            points = [hi - 1]  # the newest alone
        elif lo == 0:  # the oldest, and as many more as the reads left afford
            points = [0, *_spread(1, hi, _width(hi - 1, left - 1, fanout.width - 1))]
        else:
            points = _spread(lo, hi, _width(hi - lo, left, fanout.width))
        first = False
        left -= len(points)
        answers = fanout([partial(is_queued, order[at]) for at in points])
        for at, queued in zip(points, answers, strict=True):  # oldest first
            if not lo <= at < hi:
                continue  # decided by an older one's answer
            if queued:
                hi = at
            else:
                lo = at + 1
    return order[:lo], order[hi:]


def _width(undecided: int, left: int, most: int) -> int:
    """How many reads to make at once among `undecided` chats: the most, up to `most`, that
    still decide them all within `left` reads, or one (a binary search) if none does."""
    for width in range(min(most, left, undecided), 1, -1):
        parts, rounds = 1, 0
        while parts < undecided + 1:  # the boundary may fall at any of undecided + 1 places
            parts *= width + 1
            rounds += 1
        if width * rounds <= left:
            return width
    return min(1, most, undecided)


def _spread(lo: int, hi: int, count: int) -> list[int]:
    """`count` points that split [lo, hi) into even parts, oldest first."""
    return sorted({lo + (hi - lo) * n // (count + 1) for n in range(1, count + 1)})
