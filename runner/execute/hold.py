"""Time a chat waits for a capacity slot, which its wait's timeout does not count.

An unlicensed Coder v2.37+ works on only a few chats at once and keeps the rest `running`,
untouched (CHATS-CONTRACT 7.4): a batch of fifty would time out waiting for its turn. So a
task's timeout runs only while the server works on it. A turn is never queued again once taken
up, so a turn seen queued has been queued since it began (its create or its send).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CapacityHold:
    """How long the run's item has waited for capacity, across its turns; replaced, never
    changed in place, like the rest of a run's progress."""

    held: float = 0.0
    turn_at: float | None = None  # when the current turn began
    since: float | None = None  # queued from then on, as far as is known

    def turn(self, now: float) -> CapacityHold:
        """A turn began (a create or a send)."""
        return replace(self.seen(False, now), turn_at=now)

    def seen(self, queued: bool, now: float) -> CapacityHold:
        """A poll showed the item queued for capacity, or not."""
        if queued and self.since is None:
            return replace(self, since=now if self.turn_at is None else self.turn_at)
        if not queued and self.since is not None:
            return replace(self, held=self.held + now - self.since, since=None)
        return self

    def deadline(self, deadline: float, now: float) -> float:
        """`deadline` moved on by the time spent queued, until `now`."""
        return deadline + self.held + (0.0 if self.since is None else now - self.since)
