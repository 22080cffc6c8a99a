"""What a deployment's Chats API (Coder Agents) can do: its prefix and version-gated quirks.

The prefix is negotiated from HTTP responses (CHATS-CONTRACT section 4, as Coder's ai-sdk does);
the quirks follow the version from buildinfo, with the contract's inferred boundaries: v2.34 scopes
chats to organizations and sends `last_error` as an object, v2.35 refactored the state machine,
v2.37 is the GA release with `owner_id`, `title` and the `status:` search term.
"""

from __future__ import annotations

from dataclasses import dataclass

V2_PREFIX = "/api/v2/chats"
EXPERIMENTAL_PREFIX = "/api/experimental/chats"


@dataclass(frozen=True)
class ChatServerInfo:
    """The negotiated chat prefix plus the server's version and what follows from it."""

    version: str  # as reported, e.g. "v2.37.1+abc"
    major: int
    minor: int
    patch: int
    prefix: str
    dashboard_url: str = ""

    def _at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    @property
    def short_version(self) -> str:
        """`v2.37.1`."""
        return f"v{self.major}.{self.minor}.{self.patch}"

    @property
    def requires_organization(self) -> bool:
        """v2.34+: create needs `organization_id` (older servers ignore it)."""
        return self._at_least(2, 34)

    @property
    def structured_last_error(self) -> bool:
        """v2.34+: `last_error` is an object; a string or null before."""
        return self._at_least(2, 34)

    @property
    def supports_owner_id(self) -> bool:
        """v2.37+ (GA): create may name another owner with `owner_id`."""
        return self._at_least(2, 37)

    @property
    def supports_title(self) -> bool:
        """v2.37+ (GA): create may set the chat's `title`."""
        return self._at_least(2, 37)

    @property
    def supports_status_filter(self) -> bool:
        """v2.37+ (GA): `status:` in the list's `q`; older servers are filtered client-side."""
        return self._at_least(2, 37)

    @property
    def supports_label_filter(self) -> bool:
        """Every release that serves chats (v2.32+) filters the list by `label=key:value`."""
        return self._at_least(2, 32)

    @property
    def interrupt_settles(self) -> bool:
        """v2.35+: an interrupt passes through `interrupting`, and archiving a busy chat is 409."""
        return self._at_least(2, 35)
