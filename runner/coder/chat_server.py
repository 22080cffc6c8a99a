"""What a deployment's Chats API (Coder Agents) can do: its prefix and version-gated quirks.

The prefix is negotiated from HTTP responses (CHATS-CONTRACT section 4, as Coder's ai-sdk does);
the quirks follow the version from buildinfo, with the contract's boundaries: v2.33 scopes chats to
organizations (CHATS-CONTRACT 7.1), v2.34 sends the owner's names and serves prompts, v2.36 names a
model's provider by id, v2.37 lists models per organization, v2.38 takes `owner_id` on create and
v2.39 `title` (7.3, 7.5). Only what the client reads is here.
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
    def organization_scoped(self) -> bool:
        """v2.33+: every chat carries `organization_id` (CHATS-CONTRACT 7.1, PR #23827), and
        create requires it; v2.32 ignores the field, so create sends it on every version."""
        return self._at_least(2, 33)

    @property
    def owner_names(self) -> bool:
        """v2.34+: a chat carries `owner_username` and `last_turn_summary` (neither at
        fc2493780, so not in v2.33)."""
        return self._at_least(2, 34)

    @property
    def supports_prompts(self) -> bool:
        """v2.34+: `GET {P}/{chat}/prompts` (CHATS-CONTRACT 7.5, commit cb37047dc)."""
        return self._at_least(2, 34)

    @property
    def supports_owner_id(self) -> bool:
        """v2.38+: create may name another owner with `owner_id` (CHATS-CONTRACT 7.5)."""
        return self._at_least(2, 38)

    @property
    def supports_title(self) -> bool:
        """v2.39+: create may set the chat's `title` (CHATS-CONTRACT 7.5: "v2.38 or v2.39";
        the v2.39 reference is the first that lists it). Nothing depends on it."""
        return self._at_least(2, 39)

    @property
    def supports_cost(self) -> bool:
        """v2.36+: `GET {P}/{chat}/cost`, what a chat and its sub-agents cost (CHATS-CONTRACT
        7.4, PR #26649)."""
        return self._at_least(2, 36)

    @property
    def organization_models(self) -> bool:
        """v2.37+: models are listed per organization; before, by `model-configs` under the
        experimental prefix (CHATS-CONTRACT 7.3)."""
        return self._at_least(2, 37)

    @property
    def model_provider_ids(self) -> bool:
        """v2.36+: a model config names its provider by `ai_provider_id` (a uuid), no longer by
        a `provider` string (CHATS-CONTRACT 7.3, PR #26877, "v2.35/v2.36")."""
        return self._at_least(2, 36)

    @property
    def capacity_limits(self) -> bool:
        """v2.37+: an unlicensed deployment works on only so many chats at once; a single-chat
        read says which wait (`queued_for_capacity`; CHATS-CONTRACT 7.4, commit 119f2b1dd)."""
        return self._at_least(2, 37)
