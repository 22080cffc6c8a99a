"""Which Chats API a simulated Coder release serves (CHATS-CONTRACT section 4).

The repository snapshot behind the contract has tags up to v2.33, so the v2.34 to v2.36
boundaries are the contract's inferences: organization scoping and structured `last_error` from
v2.34, the state-machine refactor (`interrupting`, 409 on archiving an active chat, create straight
to `running`) from v2.35, `/api/v2/chats` plus the GA create fields from v2.37, and the
experimental mount gone in v2.38.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runner.sim.versions import SimVersion

EXPERIMENTAL = "/api/experimental/chats"
V2 = "/api/v2/chats"


@dataclass(frozen=True)
class ChatGeneration:
    """The chat behaviour of one simulated release, with its enabled experiments."""

    version: SimVersion
    experiments: frozenset[str] = frozenset()

    @classmethod
    def of(cls, version: SimVersion, experiments: Iterable[str] = ()) -> ChatGeneration:
        return cls(version, frozenset(e.strip().lower() for e in experiments if e.strip()))

    @property
    def served(self) -> bool:
        """Chats landed in v2.32 (none on v2.31 and older)."""
        return self.version.at_least(2, 32)

    @property
    def gated(self) -> bool:
        """v2.32 and v2.33 answer 403 unless the `agents` experiment is on."""
        return self.served and not self.version.at_least(2, 34) and "agents" not in self.experiments

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Route prefixes: experimental until v2.36, both on v2.37, v2 only from v2.38."""
        if not self.served:
            return ()
        if self.version.at_least(2, 38):
            return (V2,)
        if self.version.at_least(2, 37):
            return (V2, EXPERIMENTAL)
        return (EXPERIMENTAL,)

    @property
    def org_scoped(self) -> bool:
        """v2.34+: `organization_id` is required on create and present on every chat."""
        return self.version.at_least(2, 34)

    @property
    def structured_error(self) -> bool:
        """v2.34+: `last_error` is a `ChatError` object (a string or null before)."""
        return self.version.at_least(2, 34)

    @property
    def context_messages(self) -> bool:
        """v2.32 to v2.34 store a bound workspace's context as a `user` message; from v2.35 it
        is no longer a message (CHATS-CONTRACT 7.2, `cd56ab9e3`, PR #26585)."""
        return self.served and not self.version.at_least(2, 35)

    @property
    def state_refactor(self) -> bool:
        """v2.35+: no `pending`, `interrupting` exists, archiving an active chat is 409."""
        return self.version.at_least(2, 35)

    @property
    def ga(self) -> bool:
        """v2.37+: optional create content, `title` and `owner_id` on create."""
        return self.version.at_least(2, 37)
