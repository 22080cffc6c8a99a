"""The things a batch is made of on one server, behind one small typed interface.

The planner sees only an `Observation`; the observer and the executor reach the server only
through `Backend`: list the items a batch may own, read what was delivered to one, create,
send a follow-up, delete, resume, and the server facts they need. `TasksBackend` implements it
over Coder's Tasks API. A chat backend plugs in here: ownership from labels instead of a name
suffix, delivery from messages instead of logs, archive instead of delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from runner.coder.models import Task, User
from runner.coder.version import ServerInfo
from runner.execute.results import Cost, ItemDetails
from runner.fanout import Fanout
from runner.manifest.model import DesiredTask
from runner.preflight import ResolvedTask


class Backend(Protocol):
    """One server's items, as a batch uses them. Items are `Task` records."""

    @property
    def kind(self) -> str:
        """Which Coder API the items are: "tasks" or "chats"."""

    @property
    def server(self) -> ServerInfo:
        """The server's version, dashboard URL and capabilities."""

    @property
    def unique_names(self) -> bool:
        """Whether the server refuses a second item of a name; where not, concurrent applies
        may both create one, and the first poll after a create keeps the oldest."""

    @property
    def can_resume(self) -> bool:
        """Whether a paused item can be resumed before sending to it."""

    @property
    def has_cost(self) -> bool:
        """Whether the server keeps what each item cost (Chats v2.36+; never Tasks)."""

    def me(self) -> User:
        """The user the token belongs to."""

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        """What each desired item is created from (keyed by `preflight.task_key`)."""

    def require_creatable(
        self, creating: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> None:
        """Before anything is created: a ManifestError locating each of `creating` (what the
        plan creates) that the server would refuse to create for want of a default (Chats:
        no model named and no default model, CHATS-CONTRACT 7.3)."""

    def list_items(self, owner: str | None, batch: str) -> list[Task]:
        """The items of `owner` (a username; None: every visible item) that `batch` may own.

        A backend with server-side ownership markers (labels) lists only `batch`'s items.
        """

    def with_capacity_waits(self, watched: Sequence[Task], fanout: Fanout) -> list[Task]:
        """`watched` (items a run waits on, from this poll's list), with those the server has
        not started working on for lack of capacity marked `queued_for_capacity`, after a
        bounded number of reads made through `fanout` (Chats; Tasks have no such wait)."""

    def leftovers(self, batch: str) -> list[Task]:
        """What `batch` made that no item of it uses, as items to delete when pruning or
        destroying (Chats: its pinned workspaces no live chat of the batch is bound to)."""

    def ownership_mark(self, item: Task) -> str | None:
        """The mark beside the name that ownership reads; None where the server has none."""

    def dashboard_path(self, item: Task) -> str:
        """Where the dashboard shows the item, below its URL (e.g. `/tasks/alice/<id>`)."""

    def delivered_inputs(self, item: Task, *, read: bool = False) -> tuple[str, ...]:
        """Every input delivered to the item (its prompt first), in order.

        `read`: read them from the server, retry messages and all, never from what ownership
        marks prove (Chats' `tasks/follow-ups` label vouches for the follow-ups alone).
        """

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Task:
        """Create the item; raises UncertainOutcomeError when the response was lost."""

    def retire(self, item: Task) -> None:
        """Set aside `item`, a younger duplicate of a kept item (applies raced), before
        anything is sent to it; what the kept one uses stays (Chats: interrupt and archive).
        One attempt, never a wait: a refusal to set it aside yet is raised, and asked again."""

    @property
    def recreates_failed(self) -> bool:
        """Whether a failed or timed-out item is retried by deleting and creating it again
        (Tasks) rather than by a message to it (Chats: every non-archived chat takes one)."""

    def send(self, item: Task, text: str, *, after: str | None, interrupt: bool = False) -> bool:
        """Send a follow-up; raises AgentBusyError when the agent is working.

        `after` is the batch's input it follows (the prompt, or the follow-up before it); None
        for a retry, which goes out whether or not the failed attempt was answered.
        `interrupt`: stop the agent's current work for it where the API can (Chats).
        False: the same text was found delivered (by a concurrent apply) meanwhile, and this
        copy was withdrawn before the agent saw it.
        """

    def delete(self, item: Task) -> None:
        """Delete the item (done once it is gone)."""

    def resume(self, item: Task) -> None:
        """Resume a paused item."""

    def finished_items(self, batch: str) -> list[Task]:
        """`batch`'s items that clean-up set aside and that still count as done (Chats: its
        archived chats); none where a cleaned-up item stays listed (a paused task)."""

    def clean_up_pending(self, items: Sequence[tuple[Task, str]]) -> set[str]:
        """The ids of `items` (each with its `after`: stop or remove) not yet cleaned up."""

    def clean_up(self, item: Task, after: str) -> str:
        """Stop or remove a finished item; what was done (`clean_up.STOPPED` or `REMOVED`), or
        "" when nothing was left to do. Never touches what the batch did not create."""

    def cost(self, item: Task) -> Cost | None:
        """What the item cost so far (with its sub-agents); None where the server has no cost."""

    def details(self, item: Task, *, last_text: bool = False) -> ItemDetails:
        """What Coder knows of the item's result: its pull request, what the agent said last.

        `last_text`: what the agent said last must be its own words (an `expect.message` is
        matched against them), not a label the server made of them.
        """
