"""What a deployment's Chats API (Coder Agents) can do: its prefix and version-gated quirks.

The prefix is negotiated from HTTP responses (CHATS-CONTRACT section 4, as Coder's ai-sdk does);
the quirks follow the version from buildinfo, with the contract's boundaries: v2.33 scopes chats to
organizations (CHATS-CONTRACT 7.1), v2.34 sends `last_error` as an object and the owner's names,
v2.35 refactored the state machine, v2.37 is the GA release with the `status:` search term, v2.38
takes `owner_id` on create and v2.39 `title` (7.5).
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
    def structured_last_error(self) -> bool:
        """v2.34+: `last_error` is an object; a string or null before."""
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
