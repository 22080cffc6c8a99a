"""Which Coder API a command runs on, shared by the batch service and the imperative commands.

`auto` is Tasks where the deployment serves them and Chats (Coder Agents) otherwise; `tasks` and
`chats` insist. Whether Tasks are served is what the deployment's task routes answer (the Tasks
client asks them when it learns the server), never the version alone: v2.36 may have them off and
v2.37 serves them only where the deployment opts in (CHATS-CONTRACT 7.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Union

from runner.errors import ChatsUnavailableError, InvalidInputError, UnsupportedServerError
from runner.manifest.model import BACKENDS

if TYPE_CHECKING:
    from runner.coder.chats import ChatsClient
    from runner.coder.client import CoderClient

#: The client of the API chosen: a `CoderClient` for Tasks, a `ChatsClient` for Chats.
Api = Union["CoderClient", "ChatsClient"]


class Clients(Protocol):
    """Where the two clients come from, each built on first use."""

    def client(self) -> CoderClient:
        """The Tasks client; raises UnsupportedServerError on a server without Tasks."""

    def chats_client(self) -> ChatsClient:
        """The Chats client."""


def choose_api(clients: Clients, wanted: str) -> Api:
    """The client of the API `wanted` (one of BACKENDS) on this deployment, its server learnt.

    `tasks` on a server without Tasks, or `chats` on one without Chats, raises what the server
    said; `auto` on a server with neither raises the Tasks answer (it says why: too old, not
    Coder, switched off).
    """
    if wanted not in BACKENDS:
        raise InvalidInputError(f"backend {wanted!r} is not one of: {', '.join(BACKENDS)}")
    no_tasks: UnsupportedServerError | None = None
    if wanted in ("auto", "tasks"):
        try:
            client = clients.client()
            _ = client.server
            return client
        except UnsupportedServerError as error:
            if wanted == "tasks":
                raise
            no_tasks = error
    chats = clients.chats_client()
    try:
        _ = chats.server  # a server without Chats fails here, before anything else
    except ChatsUnavailableError:
        if no_tasks is not None:
            raise no_tasks from None
        raise
    return chats
