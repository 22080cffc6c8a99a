"""Which model config a name stands for (`runner.model_choice`), on configs as Coder lists them."""

from __future__ import annotations

import pytest

from runner.coder.chat_model_configs import configs_from_list, configs_from_org
from runner.model_choice import ModelProblem, choose, require_default

ORG = {
    "models": [
        {"id": "11111111-1111-4111-8111-111111111111", "ai_provider_id": "p1",
         "model": "claude-sonnet-4-5", "display_name": "Claude Sonnet", "enabled": True,
         "is_default": True},
        {"id": "22222222-2222-4222-8222-222222222222", "ai_provider_id": "p2",
         "model": "gpt-5", "display_name": "GPT-5", "enabled": True, "is_default": False},
        {"id": "33333333-3333-4333-8333-333333333333", "ai_provider_id": "p2",
         "model": "gpt-5", "display_name": "GPT-5 (EU)", "enabled": True, "is_default": False},
    ],
    "providers": [{"id": "p1", "provider": "anthropic"}, {"id": "p2", "provider": "openai"}],
}  # fmt: skip


def test_a_model_is_named_by_id_name_or_display_name_ignoring_case() -> None:
    configs = configs_from_org(ORG)
    assert configs[0].provider == "anthropic" and configs[1].provider == "openai"
    for name in ("claude-sonnet-4-5", "CLAUDE SONNET", "11111111-1111-4111-8111-111111111111"):
        found = choose(configs, name)
        assert found is not None and found.model == "claude-sonnet-4-5"
    eu = choose(configs, "gpt-5 (eu)")
    assert eu is not None and eu.id.startswith("3333")


def test_a_name_of_two_configs_asks_for_the_id() -> None:
    with pytest.raises(ModelProblem, match=r"model 'gpt-5' names 2 models \(2222.*\); give its ID"):
        choose(configs_from_org(ORG), "gpt-5")


def test_unknown_and_disabled_models_list_the_usable_ones() -> None:
    configs = configs_from_list(
        [
            {"id": "a", "provider": "anthropic", "model": "m1", "display_name": "M1",
             "enabled": True, "is_default": False},
            {"id": "b", "provider": "anthropic", "model": "m2", "display_name": "M2",
             "enabled": False, "is_default": True},
        ],
        provider_ids=False,
    )  # fmt: skip
    with pytest.raises(ModelProblem, match=r"^model 'x' not found; models you may use: M1 \(m1\)$"):
        choose(configs, "x")
    with pytest.raises(ModelProblem, match=r"^model 'M2' is disabled; models you may use: M1"):
        choose(configs, "M2")
    # The only default is disabled: Coder would refuse a create naming no model (7.3).
    with pytest.raises(ModelProblem, match="no model given and the deployment has no default"):
        require_default(configs)
    require_default(configs_from_org(ORG))  # a default: nothing to say
