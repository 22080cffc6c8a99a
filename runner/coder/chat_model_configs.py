"""A deployment's chat model configs (CHATS-CONTRACT 7.3): what `model_config_id` takes.

Before v2.37 `GET /api/experimental/chats/model-configs` answers a bare `ChatModelConfig[]` (its
`provider` string became `ai_provider_id`, a uuid, in v2.35/v2.36); from v2.37 the organization's
`GET /api/v2/organizations/{organization}/chats/models` answers `{models, providers, …}`, and a
model's provider name is the `providers` entry its `ai_provider_id` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.coder.models import _str


@dataclass(frozen=True)
class ChatModelConfig:
    """One model config; `id` is the `model_config_id` create and send take."""

    id: str
    model: str
    display_name: str
    provider: str  # the provider's name; its uuid where the server names none
    enabled: bool
    is_default: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        """How a person names it: `Claude Sonnet (claude-sonnet-4-5)`."""
        if self.display_name and self.display_name != self.model:
            return f"{self.display_name} ({self.model})"
        return self.model or self.id

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], providers: Mapping[str, str] | None
    ) -> ChatModelConfig:
        """A `ChatModelConfig`: with `providers` None, of a release that names the provider
        (`provider`); else with `ai_provider_id`, which `providers` maps to names."""
        if providers is None:
            provider = _str(data, "provider")
        else:
            provider_id = _str(data, "ai_provider_id")
            provider = providers.get(provider_id, provider_id)
        return cls(
            id=_str(data, "id"),
            model=_str(data, "model"),
            display_name=_str(data, "display_name"),
            provider=provider,
            enabled=data.get("enabled") is not False,
            is_default=data.get("is_default") is True,
            raw=data,
        )


def configs_from_list(data: Any, *, provider_ids: bool) -> list[ChatModelConfig]:
    """The `model-configs` answer (before v2.37): a bare array; with `provider_ids` (v2.36),
    providers by uuid only."""
    items = data if isinstance(data, list) else []
    providers: dict[str, str] | None = {} if provider_ids else None
    return [ChatModelConfig.from_json(c, providers) for c in items if isinstance(c, Mapping)]


def configs_from_org(data: Any) -> list[ChatModelConfig]:
    """The organization's models answer (v2.37+)."""
    body: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    providers = {
        _str(p, "id"): _str(p, "provider")
        for p in body.get("providers") or []
        if isinstance(p, Mapping)
    }
    models = body.get("models") or []
    return [ChatModelConfig.from_json(m, providers) for m in models if isinstance(m, Mapping)]
