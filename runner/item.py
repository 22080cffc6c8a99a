"""The batch's own values: the items a backend lists, what is known of their results, and what
each desired task resolved to.

Backends turn what their API sends (a Coder task, a chat) into these; observer, planner and
executor read nothing else, so none of them imports `runner.coder`. A field the server did not
send is None here, never a made-up value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from runner.money import usd

if TYPE_CHECKING:
    from runner.manifest.model import DesiredTask

#: An item's status in the batch's words (Coder Tasks' `TaskStatus`, plus a chat's archive).
ACTIVE = "active"
PAUSED = "paused"
ARCHIVED = "archived"

_NO_LABELS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AgentState:
    """What the agent last reported: `idle`, `working`, `complete`, `failed` (v2.28-v2.31's
    `failure` spelled `failed`), or, on Chats, `queued for capacity`."""

    state: str
    message: str = ""
    timestamp: datetime | None = None


@dataclass(frozen=True)
class PullRequest:
    """A pull request Coder tracks for an item (a chat's `diff_status`, a task state's link)."""

    url: str
    state: str = ""  # draft, open, merged or closed, as Coder reports it
    title: str = ""
    additions: int = 0
    deletions: int = 0

    def one_line(self) -> str:
        """`<url> (open, +12 -3) <title>`."""
        state = f"{self.state}, " if self.state else ""
        title = f" {self.title}" if self.title else ""
        return f"{self.url} ({state}+{self.additions} -{self.deletions}){title}"


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a batch may own on the server (a Coder task, a chat), as a backend lists it.

    `display_name` is the mark ownership reads beside the name (None where the server has
    none). `template_*`, `initial_prompt` and `workspace_*` are None where the server did not
    say (a chat: its pinned workspace, when its labels vouch for it, or its history).
    """

    id: str
    name: str
    owner_id: str
    owner_name: str
    status: str
    current_state: AgentState | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    display_name: str | None = None
    initial_prompt: str | None = None
    template_id: str | None = None
    template_version_id: str | None = None
    template_name: str | None = None
    workspace_id: str | None = None
    workspace_status: str | None = None  # Tasks only: a chat's workspace is not its status
    workspace_build_number: int | None = None
    #: A chat's model (its last turn's); Tasks have none.
    model_config_id: str | None = None
    #: A chat that is running but waits for a concurrent-agent slot (CHATS-CONTRACT 7.4): its
    #: wait's timeout does not run meanwhile. Tasks have none.
    queued_for_capacity: bool = False
    #: Whether the server is running the agent's turn (a chat `running`), where it says so.
    running: bool = False
    #: The labels the server showed (Chats); ownership and delivery marks live there.
    labels: Mapping[str, str] = field(default_factory=lambda: _NO_LABELS, compare=False)
    #: What the listing already says of the result, where it does (None: read it).
    pull_request: PullRequest | None = None
    summary: str | None = None

    @property
    def state(self) -> str:
        """The agent's reported state, or "" when there is none."""
        return self.current_state.state if self.current_state else ""

    @property
    def message(self) -> str:
        return self.current_state.message if self.current_state else ""


@dataclass(frozen=True)
class Cost:
    """What a chat (with its sub-agents) cost, as Coder's AI Gateway recorded it
    (`GET {P}/{chat}/cost`, CHATS-CONTRACT 7.4)."""

    micros: int  # US dollars, in millionths (`total_cost_micros`)
    requests: int
    unpriced_requests: int  # requests the gateway could not price: the total leaves them out

    @property
    def usd(self) -> str:
        """`$1.25`: cents, unless a smaller amount would show as nothing."""
        return usd(self.micros)

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.micros + other.micros,
            self.requests + other.requests,
            self.unpriced_requests + other.unpriced_requests,
        )


@dataclass(frozen=True)
class ItemDetails:
    """What Coder knows of an item's result, read once when its run ends."""

    pull_request: PullRequest | None = None
    last_message: str = ""  # a chat's last assistant message; a task's state message
    cost: Cost | None = None  # None where the server keeps no cost (Tasks, Chats before v2.36)


@dataclass(frozen=True)
class Message:
    """An input to send to an item.

    `after` is the batch's input it follows (the prompt, or the follow-up before it); None
    for a retry, which goes out whether or not the failed attempt was answered.
    `delivered`: what `delivered_inputs` just read, so whether `after` was answered needs no
    request of its own; None: the backend reads what it needs itself.
    `interrupt`: stop the agent's current work for it where the API can (Chats).
    """

    text: str
    after: str | None
    delivered: Delivered | None = None
    interrupt: bool = False


@dataclass(frozen=True)
class Delivered:
    """The inputs delivered to an item (its prompt first), in order; and, where they were read
    from the item's history, the texts the agent has answered (None: not read, e.g. proven by
    the chat's labels, or on Tasks, whose agent refuses input while busy)."""

    inputs: tuple[str, ...]
    answered: frozenset[str] | None = None


@dataclass(frozen=True)
class Deployment:
    """The server a batch runs on, as reports name it."""

    version: str
    short_version: str
    dashboard_url: str

    @classmethod
    def of(cls, server: ServerFacts) -> Deployment:
        return cls(server.version, server.short_version, server.dashboard_url)


class ServerFacts(Protocol):
    """What a server says of itself (either API's build info)."""

    @property
    def version(self) -> str: ...

    @property
    def short_version(self) -> str: ...

    @property
    def dashboard_url(self) -> str: ...


class Account(Protocol):
    """A user, as the batch reads one."""

    @property
    def id(self) -> str: ...

    @property
    def username(self) -> str: ...


class Named(Protocol):
    """A deployment object the batch refers to by id and name (organization, template,
    version, preset)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


class Model(Protocol):
    """A chat model config: its id, and the model it runs."""

    @property
    def id(self) -> str: ...

    @property
    def model(self) -> str: ...


@dataclass(frozen=True)
class ResolvedTask:
    """The deployment objects one desired task stands for.

    Template and version are None for a chat without a template (the agent picks its own
    environment); the organization too when the manifest names none (the user's default).
    """

    owner: Account
    organization: Named | None
    template: Named | None
    version: Named | None
    preset: Named | None
    #: Chats: the model config the manifest names (None: the deployment's default).
    model: Model | None = None

    @property
    def version_id(self) -> str:
        """The pinned template version's id; empty when nothing is pinned."""
        return self.version.id if self.version is not None else ""


def task_key(task: DesiredTask) -> str:
    """How a desired task is found among its batch's: its owner as written, and its name.

    A name alone is not enough: a manifest may give two owners a task of the same name.
    """
    return f"{task.owner}/{task.name.lower()}"
