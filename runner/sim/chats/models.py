"""The simulated deployment's chat model configs and the model and cost routes that show them.

CHATS-CONTRACT 7.3: before v2.37 `GET /api/experimental/chats/model-configs` answers a bare
`ChatModelConfig[]` (its `provider` string became `ai_provider_id`, a uuid, in "v2.35/v2.36", PR
#26877: the simulator switches at v2.36); from v2.37 `GET /api/v2/organizations/{organization}/
chats/models` answers `{models, providers, unsupported_providers}` for that organization.
CHATS-CONTRACT 7.4: `GET {P}/{chat}/cost` (v2.36+) sums the AI Gateway records of a chat and
its sub-agents: zero where the gateway prices nothing (the default here), else one request per
finished turn at the deployment's configured price.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from runner.sim.chats.generation import ChatGeneration
from runner.sim.directory import SimOrg


@dataclass(frozen=True)
class ModelConfig:
    """One configured chat model; `id` is what `model_config_id` takes."""

    id: str
    provider_id: str
    provider: str
    model: str
    display_name: str
    context_limit: int
    is_default: bool
    enabled: bool = True


def _fixed_id(name: str) -> str:
    # Fixed ids for the configs added later, so the simulator's random ids stay as they were.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"coder-sim:model:{name}"))


def default_configs(ids: list[str]) -> tuple[ModelConfig, ...]:
    """A small default set: a default model and a second one of one provider, a model of a
    second provider, and a disabled config (shown to site owners only before v2.37, never on
    the organization's list: CHATS-CONTRACT 1.11 and 7.3)."""
    provider_id, default_id, other_id = ids
    openai = _fixed_id("openai")
    return (
        ModelConfig(
            default_id,
            provider_id,
            "anthropic",
            "claude-sonnet-4-5",
            "Claude Sonnet",
            200_000,
            True,
        ),
        ModelConfig(
            other_id, provider_id, "anthropic", "claude-haiku-4-5", "Claude Haiku", 200_000, False
        ),
        ModelConfig(_fixed_id("gpt-5"), openai, "openai", "gpt-5", "GPT-5", 400_000, False),
        ModelConfig(
            _fixed_id("claude-opus-4-1"),
            provider_id,
            "anthropic",
            "claude-opus-4-1",
            "Claude Opus",
            200_000,
            False,
            enabled=False,
        ),
    )


def model_configs_json(
    gen: ChatGeneration, configs: tuple[ModelConfig, ...], *, site_owner: bool
) -> list[Any]:
    """`ChatModelConfig[]` of `model-configs` (before v2.37); "non-admins see only enabled
    configs" (CHATS-CONTRACT 1.11)."""
    found: list[Any] = []
    for config in configs:
        if not config.enabled and not site_owner:
            continue
        body: dict[str, Any] = {"id": config.id}
        if gen.version.at_least(2, 36):
            body["ai_provider_id"] = config.provider_id
        else:
            body["provider"] = config.provider
        body.update(_common(config))
        found.append(body)
    return found


def org_models_json(org: SimOrg, configs: tuple[ModelConfig, ...]) -> dict[str, Any]:
    """The organization-scoped models answer of v2.37+ (CHATS-CONTRACT 7.3: "only configs the
    caller may use are listed", so no disabled one)."""
    configs = tuple(c for c in configs if c.enabled)
    providers = {c.provider_id: c.provider for c in configs}
    return {
        "models": [
            {
                "id": c.id,
                "organization_id": org.id,
                "ai_provider_id": c.provider_id,
                **_common(c),
            }
            for c in configs
        ],
        "providers": [
            {"id": pid, "provider": name, "display_name": name.title()}
            for pid, name in providers.items()
        ],
        "unsupported_providers": [],
    }


def cost_json(chat_id: str, requests: int, price_micros: int) -> dict[str, Any]:
    """`GET {P}/{chat}/cost`: the AI Gateway's records of a chat and its sub-agents
    (CHATS-CONTRACT 7.4), `requests` of them at the deployment's price each (0 by default: no
    gateway pricing). Every request is priced, so none is unpriced."""
    return {
        "chat_id": chat_id,
        "total_cost_micros": requests * price_micros,
        "request_count": requests,
        "unpriced_request_count": 0,
    }


def _common(config: ModelConfig) -> dict[str, Any]:
    return {
        "model": config.model,
        "display_name": config.display_name,
        "enabled": config.enabled,
        "is_default": config.is_default,
        "context_limit": config.context_limit,
    }
