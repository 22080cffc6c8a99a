"""`list`, `status`, `logs`, `send` and `delete` on chats, where `runner.choice` picks Chats.

Each command loads this module only then (`--backend chats`, or `auto` on a deployment whose
task routes are not served). A chat is named by its UUID, or as `<batch>/<name>` for a chat a
batch made (found by its labels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from runner.cli.error_context import error_context
from runner.coder.routes import is_uuid
from runner.errors import InvalidInputError, TaskNotFoundError
from runner.ownership import BATCH_LABEL, ITEM_LABEL, NAME_LABEL, chat_labels, survivor
from runner.pinned import release_workspace
from runner.readiness import retire_chat
from runner.render.json_output import go_json
from runner.render.safe_text import safe_line, safe_text
from runner.render.times import go_stamp

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat
    from runner.coder.chats import ChatsClient


def _chat(client: ChatsClient, identifier: str) -> Chat:
    """The chat a UUID or `<batch>/<name>` names."""
    text = identifier.strip()
    if is_uuid(text):
        with error_context(f'get chat "{text}"'):
            return client.get_chat(text)
    batch, slash, name = text.partition("/")
    if not slash and text:
        named = _by_name(client, text)  # `tasks create --name`
        if named is not None:
            return named
    if not slash or not batch or not name or "/" in name:
        raise InvalidInputError(
            f'"{identifier}" is not a chat: this deployment serves Coder Agents, whose chats '
            "are named by UUID, or as <batch>/<name> for a chat a batch made"
        )
    with error_context(f'find chat "{text}"'):
        found = client.list_chats(labels=chat_labels(batch, name))
    if not found:
        raise TaskNotFoundError(f'no chat of batch "{batch}" is named "{name}"')
    # Two applies that raced leave two until the next apply archives one; the one every
    # apply keeps is the one named.
    return survivor(found)


def _by_name(client: ChatsClient, name: str) -> Chat | None:
    """The one chat `tasks create --name` labelled `name`, if there is one."""
    with error_context(f'find chat "{name}"'):
        found = client.list_chats(labels={NAME_LABEL: name})
    if len(found) > 1:
        ids = ", ".join(chat.id for chat in found)
        raise InvalidInputError(f'"{name}" names {len(found)} chats ({ids}); name one by UUID')
    return found[0] if found else None


def chat_name(chat: Chat) -> str:
    """`<batch>/<name>` for a chat a batch made, its `--name` for one `tasks create` made,
    else its UUID."""
    batch, name = chat.labels.get(BATCH_LABEL), chat.labels.get(ITEM_LABEL)
    if batch and name:
        return f"{batch}/{name}"
    return chat.labels.get(NAME_LABEL) or chat.id


def list_chats(
    client: ChatsClient, *, output: str, quiet: bool, labels: Mapping[str, str] | None = None
) -> None:
    """The token user's chats (archived ones excluded) carrying every one of `labels`, every
    page (the server filters: CHATS-CONTRACT section 2)."""
    from runner.render.chat_tables import chat_table

    with error_context("list chats"):
        chats = client.list_chats(labels=labels)
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
    if (
        chat.status == "running"
        and client.server.capacity_limits
        and not is_uuid(identifier.strip())
    ):
        # Found by its labels in the list, which never says whether it waits for capacity.
        with error_context(f'get chat "{chat.id}"'):
            chat = client.get_chat(chat.id)
    if output == "json":
        click.echo(go_json(dict(chat.raw)))
    else:
        click.echo(chat_table([chat], datetime.now(timezone.utc), sub_agents=True))


def chat_logs(client: ChatsClient, identifier: str, *, output: str) -> None:
    """The conversation, oldest first: text and tool calls, one line each."""
    from runner.render.chat_tables import conversation, sub_agent_heading

    chat = _chat(client, identifier)
    with error_context("get chat messages"):
        messages = client.history(chat.id)
    if output == "json":
        click.echo(go_json([dict(m.raw) for m in messages]))
        return
    lines = conversation(messages)
    for child in chat.children:  # each sub-agent's conversation, under its root's
        with error_context(f'get messages of sub-agent "{child.id}"'):
            said = conversation(client.history(child.id))
        lines += [sub_agent_heading(child), *(f"  {line}" for line in said)]
    if not lines:
        click.echo("No messages found.", err=True)
        return
    click.echo("\n".join(lines))


def chat_send(client: ChatsClient, identifier: str, text: str) -> None:
    """A message to the chat; Coder queues it while the agent is busy."""
    chat = _chat(client, identifier)
    with error_context(f'send message to chat "{chat_name(chat)}"'):
        result = client.send_message(chat.id, text, busy_behavior="queue")
    if result.queued:
        click.echo(safe_line(f'Chat "{chat_name(chat)}" is busy: the message is queued.'), err=True)


def chat_delete(
    client: ChatsClient, identifiers: Sequence[str], confirm: Callable[[str], None]
) -> None:
    """Archive chats (Coder has no chat delete), stopping busy ones first.

    Every name is resolved before anything changes. A workspace a batch pinned for a chat
    goes with it once no other live chat of its item uses it; others are left alone.
    """
    chats: list[Chat] = []
    for identifier in identifiers:
        chat = _chat(client, identifier)
        if all(seen.id != chat.id for seen in chats):
            chats.append(chat)
    confirm(f"Archive these chats: {', '.join(chat_name(c) for c in chats)}?")
    for chat in chats:
        with error_context(f'archive chat "{chat_name(chat)}"'):
            retire_chat(client, chat)
            release_workspace(client, chat)
        stamp = go_stamp(datetime.now().astimezone())
        click.echo(safe_line(f"Archived chat {chat_name(chat)} at {stamp}"))
