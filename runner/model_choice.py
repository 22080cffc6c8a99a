"""Which chat model config a name stands for: one rule for batches and the imperative commands.

A model is named by its ID, its model name (`claude-sonnet-4-5`) or its display name (`Claude
Sonnet`), names compared ignoring case. Only enabled configs may be used (CHATS-CONTRACT 7.3:
Coder refuses a disabled one with 400); with no model named, the deployment's default is used,
and without one Coder refuses the create (7.3: "No default chat model config is configured.").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.coder.chat_model_configs import ChatModelConfig
from runner.errors import ApiError, LocatedError, ManifestError
from runner.item import ResolvedTask, task_key
from runner.manifest.model import DesiredTask
from runner.preflight import located

if TYPE_CHECKING:
    from runner.coder.chats import ChatsClient


class ModelProblem(Exception):
    """A model that cannot be used; the message lists the ones that can."""


def usable(configs: Sequence[ChatModelConfig]) -> list[ChatModelConfig]:
    """The enabled configs."""
    return [c for c in configs if c.enabled]


def usable_names(configs: Sequence[ChatModelConfig]) -> str:
    """`Claude Sonnet (claude-sonnet-4-5), GPT-5 (gpt-5)`, or `none`."""
    return ", ".join(c.label for c in usable(configs)) or "none"


def choose(configs: Sequence[ChatModelConfig], wanted: str | None) -> ChatModelConfig | None:
    """The config `wanted` names (None: the deployment's default, None when it has none and
    the server picks); raises ModelProblem when it names none, several or a disabled one."""
    if wanted is None:
        return next((c for c in usable(configs) if c.is_default), None)
    found = [c for c in configs if c.id.lower() == wanted.lower()] or [
        c for c in configs if wanted.lower() in (c.model.lower(), c.display_name.lower())
    ]
    you_may = f"models you may use: {usable_names(configs)}"
    if not found:
        raise ModelProblem(f"model {wanted!r} not found; {you_may}")
    enabled = usable(found)
    if not enabled:
        raise ModelProblem(f"model {wanted!r} is disabled; {you_may}")
    if len(enabled) > 1:
        ids = ", ".join(f"{c.id} ({c.provider})" for c in enabled)
        raise ModelProblem(f"model {wanted!r} names {len(enabled)} models ({ids}); give its ID")
    return enabled[0]


def require_default(configs: Sequence[ChatModelConfig]) -> None:
    """ModelProblem when no model is named and Coder would refuse the create for want of a
    default (CHATS-CONTRACT 7.3)."""
    if choose(configs, None) is None:
        raise ModelProblem(
            "no model given and the deployment has no default chat model (Coder refuses such "
            f"a create); set `model`, one of: {usable_names(configs)}"
        )


class ModelCatalogs:
    """The configs of each organization a batch uses, read once each (CHATS-CONTRACT 7.3)."""

    def __init__(self, chats: ChatsClient) -> None:
        self.chats = chats
        self._read: dict[str | None, list[ChatModelConfig] | None] = {}

    def configs(self, organization_id: str | None) -> list[ChatModelConfig] | None:
        """The organization's configs (None: the user's default one); None when the
        deployment refuses to list them."""
        if organization_id not in self._read:
            try:
                self._read[organization_id] = self.chats.model_configs(organization_id)
            except ApiError as error:
                if error.status not in (403, 404):
                    raise
                self._read[organization_id] = None
        return self._read[organization_id]

    def choose(self, organization_id: str | None, wanted: str | None) -> ChatModelConfig | None:
        """The config `wanted` names (None when none is named: the server picks its default);
        ModelProblem when it cannot be used, or when none is named and there is no default."""
        configs = self.configs(organization_id)
        if configs is None:
            if wanted is None:
                return None  # nothing to check: the create itself will say
            raise ModelProblem(f"model {wanted!r}: this deployment does not list its models")
        if wanted is None:
            require_default(configs)
            return None
        return choose(configs, wanted)


def with_models(
    catalogs: ModelCatalogs,
    desired: Sequence[DesiredTask],
    resolved: Mapping[str, ResolvedTask],
) -> dict[str, ResolvedTask]:
    """`resolved` with the model config each task names; a ManifestError locates every task
    whose model cannot be used, or that names none where the deployment has no default."""
    chosen = dict(resolved)
    problems: dict[str, LocatedError] = {}  # a matrix's tasks share their entry's line
    for task in desired:
        key = task_key(task)
        organization = resolved[key].organization
        try:
            config = catalogs.choose(organization.id if organization else None, task.model)
        except ModelProblem as problem:
            error = located(task, str(problem))
            problems.setdefault(str(error), error)
            continue
        if config is not None:
            chosen[key] = replace(resolved[key], model=config)
    if problems:
        raise ManifestError(list(problems.values()))
    return chosen


def model_name(desired: DesiredTask | None, resolved: ResolvedTask | None) -> str:
    """The model a task runs on, as reports name it: its config's model name where preflight
    resolved one, else as the manifest wrote it; "" for the deployment's default."""
    if resolved is not None and resolved.model is not None:
        return resolved.model.model or resolved.model.id
    return desired.model or "" if desired is not None else ""
