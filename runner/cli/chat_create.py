"""`tasks create` where `runner.choice` picks Chats: one chat, on the model and with the labels
asked for, whose agent works where the flags say: in a new workspace pinning a template (version,
preset), in an existing workspace of the user's, or (neither) where it picks itself.

With `--name` the chat is labelled `tasks/name`, so `tasks status <name>` finds it, and a create
whose answer was lost is found by that label and adopted instead of made twice (Coder has no
idempotency key; labels are the only server-side marker: CHATS-CONTRACT section 2). A pinned
workspace is made as a batch makes one (`runner.backends.pinned_workspace`), named after the chat
with the mark of `tasks create`, so a lost answer adopts it too.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from runner import ownership
from runner.backends.conflicts import NameConflicts
from runner.backends.pinned_workspace import WantedWorkspace, pin_workspace
from runner.cli.error_context import error_context
from runner.coder.routes import is_uuid
from runner.errors import ApiError, InvalidInputError, UncertainOutcomeError
from runner.manifest.labels import key_problem, value_problem
from runner.manifest.names import task_name_problem
from runner.model_choice import ModelCatalogs, ModelProblem
from runner.ownership import NAME_LABEL
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.coder.chat_models import Chat, PinnedWorkspace
    from runner.coder.chats import ChatsClient


@dataclass(frozen=True)
class ChatPlace:
    """Where the created chat's agent works; the default: wherever it picks."""

    organization_id: str | None = None  # None: the user's default organization
    version_id: str = ""  # a template version a new workspace pins
    preset_id: str | None = None
    workspace: str = ""  # an existing workspace of the user's: name, owner/name or UUID


def chat_create(
    client: ChatsClient,
    prompt: str,
    *,
    place: ChatPlace,
    name: str,
    model: str | None,
    labels: Mapping[str, str],
    quiet: bool,
) -> None:
    """Create the chat (or adopt the one a lost create of `name` made) and print it.

    Everything is looked up before anything is created, so bad input creates nothing.
    """
    wanted = _labels(labels, name)
    pinned_name = _pinned_name(name) if place.version_id else ""
    existing = _named(client, name) if name else ""
    if existing:
        raise InvalidInputError(f'a chat named "{name}" exists already: {existing}')
    workspace = _users_workspace(client, place.workspace) if place.workspace else None
    organization_id = place.organization_id
    if workspace is not None:  # the chat goes where its workspace is (CHATS-CONTRACT 1.3)
        organization_id = str(workspace.raw.get("organization_id") or "") or None
    try:
        config = ModelCatalogs(client).choose(organization_id, model)
    except ModelProblem as problem:
        raise InvalidInputError(str(problem).replace("set `model`", "give --model")) from None
    if pinned_name:
        workspace = _pin(client, pinned_name, place)
    try:
        with error_context("create chat"):
            chat = client.create_chat(
                prompt,
                organization_id=organization_id,
                labels=wanted or None,
                workspace_id=workspace.id if workspace else None,
                model_config_id=config.id if config else None,
            )
    except UncertainOutcomeError:
        adopted = _adopt(client, name)
        if adopted is None:
            raise
        chat = adopted
    _print(client, chat, quiet)


def _print(client: ChatsClient, chat: Chat, quiet: bool) -> None:
    if quiet:
        click.echo(safe_text(chat.id))
        return
    link = f"{client.server.dashboard_url.rstrip('/')}/agents/{chat.id}"
    click.echo(safe_text(f"The chat {chat.id} has been created: {link}"))


def _pinned_name(name: str) -> str:
    """The pinned workspace's name: the chat's `--name` (else a random one) with the mark of
    `tasks create`, so the same named create finds it again and no batch's marker matches."""
    if not name:
        return ownership.create_workspace_name(f"chat-{secrets.token_hex(3)}")
    problem = task_name_problem(name)
    if problem:
        raise InvalidInputError(
            f"--name: with --template it also names the chat's workspace, so: {problem}"
        )
    return ownership.create_workspace_name(name)


def _pin(client: ChatsClient, name: str, place: ChatPlace) -> PinnedWorkspace:
    """The workspace pinning the template version (and preset), made as a batch makes one."""
    wanted = WantedWorkspace(name, client.me().username, place.version_id, place.preset_id)
    with error_context("create workspace"):
        return pin_workspace(client, wanted, NameConflicts())


def _users_workspace(client: ChatsClient, ref: str) -> PinnedWorkspace:
    """`--workspace`: a UUID, `name` (the user's) or `owner/name`, as Coder's CLI names a
    workspace (`namedWorkspace` in `cli/root.go`, Kortasfa/coder main of 2026-06-19); only the
    token user's own, since only a chat's owner may work with it."""
    from runner.coder.chat_models import PinnedWorkspace

    parts = ref.split("/")
    if len(parts) > 2 or not all(parts):
        raise InvalidInputError(f'--workspace: invalid workspace name: "{ref}"')
    try:
        if is_uuid(ref):
            found = client.get_workspace(ref)
        else:
            owner, name = parts if len(parts) == 2 else ("me", parts[0])
            found = PinnedWorkspace.from_json(client.workspace_by_owner_and_name(owner, name))
    except ApiError as error:
        if error.status not in (400, 403, 404):
            raise
        raise InvalidInputError(f'--workspace: no workspace "{ref}" of yours found') from None
    me = client.me()
    if found.owner_id != me.id:
        owner_name = str(found.raw.get("owner_name") or found.owner_id)
        raise InvalidInputError(
            f'--workspace: "{ref}" belongs to {owner_name}, not to {me.username}: a chat works '
            "only in its owner's workspaces"
        )
    if found.transition == "delete":
        raise InvalidInputError(f'--workspace: "{ref}" is being deleted')
    return found


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
