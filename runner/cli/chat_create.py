"""`tasks create` where `runner.choice` picks Chats: one chat, the agent picking its own
environment, on the model and with the labels asked for.

With `--name` the chat is labelled `tasks/name`, so `tasks status <name>` finds it, and a create
whose answer was lost is found by that label and adopted instead of made twice (Coder has no
idempotency key; labels are the only server-side marker: CHATS-CONTRACT section 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from runner.cli.error_context import error_context
from runner.errors import InvalidInputError, UncertainOutcomeError
from runner.manifest.labels import key_problem, value_problem
from runner.model_choice import ModelCatalogs, ModelProblem
from runner.ownership import NAME_LABEL
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient


def chat_create(
    client: ChatsClient,
    prompt: str,
    *,
    name: str,
    model: str | None,
    labels: Mapping[str, str],
    quiet: bool,
) -> None:
    """Create the chat (or adopt the one a lost create of `name` made) and print it."""
    wanted = _labels(labels, name)
    existing = _named(client, name) if name else ""
    if existing:
        raise InvalidInputError(f'a chat named "{name}" exists already: {existing}')
    try:
        config = ModelCatalogs(client).choose(None, model)
    except ModelProblem as problem:
        raise InvalidInputError(str(problem).replace("set `model`", "give --model")) from None
    try:
        with error_context("create chat"):
            chat = client.create_chat(
                prompt, labels=wanted or None, model_config_id=config.id if config else None
            )
    except UncertainOutcomeError:
        adopted = _adopt(client, name)
        if adopted is None:
            raise
        chat = adopted
    if quiet:
        click.echo(safe_text(chat.id))
        return
    link = f"{client.server.dashboard_url.rstrip('/')}/agents/{chat.id}"
    click.echo(safe_text(f"The chat {chat.id} has been created: {link}"))


def _labels(labels: Mapping[str, str], name: str) -> dict[str, str]:
    """`--label`s and the name's label, each held to Coder's label rules."""
    for key, value in labels.items():
        problem = key_problem(key) or value_problem(key, value)
        if problem:
            raise InvalidInputError(f"--label {key}={value}: {problem}")
    if name:
        problem = value_problem(NAME_LABEL, name)
        if problem:
            raise InvalidInputError(f"--name: {problem}")
        return {**labels, NAME_LABEL: name}
    return dict(labels)


def _named(client: ChatsClient, name: str) -> str:
    """The ids of the chats labelled `name`, joined ("" when none)."""
    return ", ".join(c.id for c in _labelled(client, name))


def _labelled(client: ChatsClient, name: str) -> list[Chat]:
    with error_context(f'find chat "{name}"'):
        return client.list_chats(labels={NAME_LABEL: name})


def _adopt(client: ChatsClient, name: str) -> Chat | None:
    """The chat a create of `name` whose answer was lost made, if it made one."""
    found = _labelled(client, name) if name else []
    return found[0] if len(found) == 1 else None
