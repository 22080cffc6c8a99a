"""Time a chat waits for a capacity slot, which its wait's timeout does not count.

An unlicensed Coder v2.37+ works on only a few chats at once and keeps the rest `running`,
untouched (CHATS-CONTRACT 7.4): a batch of fifty would time out waiting for its turn. So a
task's timeout runs only while the server works on it. A turn is never queued again once taken
up, so a turn seen queued has been queued since it began (its create or its send).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CapacityHold:
    """How long the run's item has waited for capacity, across its turns."""

    held: float = 0.0
    turn_at: float | None = None  # when the current turn began
    since: float | None = None  # queued from then on, as far as is known

    def turn(self, now: float) -> None:
        """A turn began (a create or a send)."""
        self.see(False, now)
        self.turn_at = now

    def see(self, queued: bool, now: float) -> bool:
        """A poll showed the item queued for capacity, or not; True when it begins to be."""
        if queued and self.since is None:
            self.since = now if self.turn_at is None else self.turn_at
            return True
        if not queued and self.since is not None:
            self.held += now - self.since
            self.since = None
        return False

    def deadline(self, deadline: float, now: float) -> float:
        """`deadline` moved on by the time spent queued, until `now`."""
        return deadline + self.held + (0.0 if self.since is None else now - self.since)
