"""The things a batch is made of on one server, behind one small typed interface.

The planner sees only an `Observation`; the observer and the executor reach the server only
through `Backend`: list the items a batch may own, read what was delivered to one, create,
send a follow-up, delete, resume, and the server facts they need. `TasksBackend` implements it
over Coder's Tasks API, `ChatsBackend` over Coder Agents' Chats API: ownership from labels
instead of a name suffix, delivery from messages instead of logs, archive instead of delete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from runner.fanout import Fanout
from runner.item import (
    Account,
    Cost,
    Delivered,
    Deployment,
    Item,
    ItemDetails,
    Message,
    ResolvedTask,
)
from runner.manifest.model import DesiredTask


class Backend(Protocol):
    """One server's items, as a batch uses them (`runner.item.Item`)."""

    @property
    def kind(self) -> str:
        """Which Coder API the items are: "tasks" or "chats"."""

    @property
    def deployment(self) -> Deployment:
        """The server's version and dashboard URL."""

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

    def me(self) -> Account:
        """The user the token belongs to."""

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        """What each desired item is created from (keyed by `preflight.task_key`)."""

    def require_creatable(
        self, creating: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> None:
        """Before anything is created: a ManifestError locating each of `creating` (what the
        plan creates) that the server would refuse to create for want of a default (Chats:
        no model named and no default model, CHATS-CONTRACT 7.3)."""

    def list_items(self, owner: str | None, batch: str) -> list[Item]:
        """The items of `owner` (a username; None: every visible item) that `batch` may own.

        A backend with server-side ownership markers (labels) lists only `batch`'s items.
        """

    def with_capacity_waits(self, watched: Sequence[Item], fanout: Fanout) -> list[Item]:
        """`watched` (items a run waits on, from this poll's list), with those the server has
        not started working on for lack of capacity marked `queued_for_capacity`, after a
        bounded number of reads made through `fanout` (Chats; Tasks have no such wait)."""

    def leftovers(self, batch: str) -> list[Item]:
        """What `batch` made that no item of it uses, as items to delete when pruning or
        destroying (Chats: its pinned workspaces no live chat of the batch is bound to)."""

    def dashboard_path(self, item: Item) -> str:
        """Where the dashboard shows the item, below its URL (e.g. `/tasks/alice/<id>`)."""

    def delivered_inputs(self, item: Item, *, read: bool = False) -> Delivered:
        """Every input delivered to the item (its prompt first), in order, and which of them
        the agent answered where that was read.

        `read`: read them from the server, retry messages and all, never from what ownership
        marks prove (Chats' `tasks/follow-ups` label vouches for the follow-ups alone).
        """

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Item:
        """Create the item; raises UncertainOutcomeError when the response was lost."""

    def made_here(self, item: Item) -> bool | None:
        """Whether this command created `item`, where the server keeps a mark that tells
        (Chats: the `tasks/run` label); None where it keeps none (Tasks, older chats)."""

    def retire(self, item: Item) -> None:
        """Set aside `item`, a younger duplicate of a kept item (applies raced), before
        anything is sent to it; what the kept one uses stays (Chats: interrupt and archive).
        One attempt, never a wait: a refusal to set it aside yet is raised, and asked again."""

    @property
    def recreates_failed(self) -> bool:
        """Whether a failed or timed-out item is retried by deleting and creating it again
        (Tasks) rather than by a message to it (Chats: every non-archived chat takes one)."""

    def send(self, item: Item, message: Message) -> bool:
        """Send `message`; raises AgentBusyError when the agent is working, or has not
        answered `message.after` yet.

        False: the same text was found delivered (by a concurrent apply) meanwhile, and this
        copy was withdrawn before the agent saw it.
        """

    def create_refused(self, resolved: ResolvedTask) -> str | None:
        """Why a create of `resolved` would be refused, as an earlier create of it learnt
        (Tasks: a template version that is no AI-task template); None: it may be tried."""

    def claim_create(self, resolved: ResolvedTask, *, pinned: bool) -> bool:
        """Whether a create of `resolved` may go out now: a pinned version preflight could not
        judge is tried by one create at a time until one succeeds (Tasks; always on Chats)."""

    def settle_create(
        self, resolved: ResolvedTask, *, pinned: bool, error: BaseException | None
    ) -> None:
        """Record how a create of `resolved` ended (`error` None: created), releasing a claim."""

    def retire_refused_for_now(self, error: BaseException) -> bool:
        """Whether `retire` (or `delete`, which sets the item aside the same way first) was
        refused only until the item settles (Chats: Coder will not archive a chat still
        interrupting), so asking again shortly succeeds."""

    def no_later_than(self, instant: float, why: str) -> AbstractContextManager[None]:
        """Within the block, every request this thread makes ends by `instant` (monotonic
        seconds), retries and waits included; `why` names the bound in the error."""

    def delete(self, item: Item) -> None:
        """Delete the item (done once it is gone). One attempt, never a wait: a refusal for
        now (`retire_refused_for_now`) is raised, and the run asks again."""

    def resume(self, item: Item) -> None:
        """Resume a paused item."""

    def finished_items(self, batch: str) -> list[Item]:
        """`batch`'s items that clean-up set aside and that still count as done (Chats: its
        archived chats); none where a cleaned-up item stays listed (a paused task)."""

    def clean_up_pending(self, items: Sequence[tuple[Item, str]]) -> set[str]:
        """The ids of `items` (each with its `after`: stop or remove) not yet cleaned up."""

    def clean_up(self, item: Item, after: str) -> str:
        """Stop or remove a finished item; what was done (`clean_up.STOPPED` or `REMOVED`), or
        "" when nothing was left to do. Never touches what the batch did not create. One
        attempt, never a wait: a 409 (a chat still interrupting, a build still running) is
        raised, and the run asks again after a pause."""

    def cost(self, item: Item) -> Cost | None:
        """What the item cost so far (with its sub-agents); None where the server has no cost."""

    def details(self, item: Item, *, last_text: bool = False) -> ItemDetails:
        """What Coder knows of the item's result: its pull request, what the agent said last.

        `last_text`: what the agent said last must be its own words (an `expect.message` is
        matched against them), not a label the server made of them.
        """
