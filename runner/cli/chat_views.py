"""`list`, `status` and `logs` on a deployment that serves Chats (Coder Agents) and no Tasks.

Each command first takes the Tasks path unchanged (chat modules load only when needed); only
when the server says it serves no Tasks (v2.37+, or switched off on v2.35/v2.36) and answers the
Chats probe does it show chats instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from runner.cli.error_context import error_context
from runner.coder.routes import is_uuid
from runner.errors import ChatsUnavailableError, InvalidInputError, UnsupportedServerError
from runner.render.json_output import go_json
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.cli.context import GlobalOptions
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient
    from runner.coder.client import CoderClient


def tasks_or_chats(
    options: GlobalOptions,
    on_tasks: Callable[[CoderClient], None],
    on_chats: Callable[[ChatsClient], None],
) -> None:
    """Run `on_tasks`; on a server without Tasks that serves Chats, run `on_chats` instead."""
    try:
        on_tasks(options.client())
        return
    except ChatsUnavailableError:
        raise
    except UnsupportedServerError as exc:
        no_tasks = exc
    chats = options.chats_client()
    try:
        _ = chats.server
    except ChatsUnavailableError:
        raise no_tasks from None
    on_chats(chats)


def _chat(client: ChatsClient, identifier: str) -> Chat:
    text = identifier.strip()
    if not is_uuid(text):
        raise InvalidInputError(
            f'"{identifier}" is not a chat ID: this deployment serves Coder Agents, whose chats '
            "are named by UUID"
        )
    with error_context(f'get chat "{text}"'):
        return client.get_chat(text)


def list_chats(client: ChatsClient, *, output: str, quiet: bool) -> None:
    """The token user's chats (archived ones excluded), every page."""
    from runner.render.chat_tables import chat_table

    with error_context("list chats"):
        chats = client.list_chats()
    if quiet:
        for chat in chats:
            click.echo(safe_text(chat.id))
        return
    if output == "json":
        click.echo(go_json([dict(chat.raw) for chat in chats]))
        return
    if not chats:
        click.echo("No chats found.", err=True)
        return
    click.echo(chat_table(chats, datetime.now(timezone.utc)))


def chat_status(client: ChatsClient, identifier: str, *, output: str) -> None:
    """One chat's status row, or its JSON."""
    from runner.render.chat_tables import chat_table

    chat = _chat(client, identifier)
    if output == "json":
        click.echo(go_json(dict(chat.raw)))
    else:
        click.echo(chat_table([chat], datetime.now(timezone.utc)))


def chat_logs(client: ChatsClient, identifier: str, *, output: str) -> None:
    """The conversation, oldest first: text and tool calls, one line each."""
    from runner.render.chat_tables import conversation

    chat = _chat(client, identifier)
    with error_context("get chat messages"):
        messages = client.history(chat.id)
    if output == "json":
        click.echo(go_json([dict(m.raw) for m in messages]))
        return
    lines = conversation(messages)
    if not lines:
        click.echo("No messages found.", err=True)
        return
    click.echo("\n".join(lines))
