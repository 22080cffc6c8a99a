"""The batch backend over Coder's Tasks API (Coder v2.28 to v2.36)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from runner.backends.clean_up import STOPPED, STOPPED_WORKSPACE
from runner.backends.conflicts import NameConflicts
from runner.backends.pull_requests import pull_request_from_uri
from runner.backends.versions import VersionVerdicts
from runner.coder import deadline
from runner.coder.client import CoderClient
from runner.coder.errors import is_not_an_ai_template
from runner.coder.models import Task, TaskLogs, User
from runner.errors import ConflictError, DeliveryUnverifiedError, TasksError
from runner.fanout import Fanout
from runner.item import AgentState, Delivered, Deployment, Item, ItemDetails
from runner.manifest.model import DesiredTask
from runner.preflight import preflight, require_tasks_clean_up

if TYPE_CHECKING:
    from runner.item import Cost, Message, ResolvedTask


class TasksBackend:
    """Tasks as batch items: ownership from name and display name, delivery from the logs."""

    kind = "tasks"
    unique_names = True  # a concurrent create of a name gets a 409 and adopts

    def __init__(self, client: CoderClient) -> None:
        self.client = client
        self.conflicts = NameConflicts()
        self._me: User | None = None
        self.versions = VersionVerdicts()  # what creates learnt of each template version

    @property
    def deployment(self) -> Deployment:
        return Deployment.of(self.client.server)

    @property
    def can_resume(self) -> bool:
        return self.client.server.supports_pause

    @property
    def has_cost(self) -> bool:
        return False  # Coder Tasks keep no cost

    def me(self) -> User:
        if self._me is None:  # read once per command (preflight's owner `me` included)
            self._me = self.client.me()
        return self._me

    def cost(self, item: Item) -> Cost | None:
        return None

    def require_creatable(
        self, creating: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> None:
        pass  # preflight resolved a template version for every task

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        require_tasks_clean_up(desired, can_pause=self.client.server.supports_pause)
        return preflight(self.client, desired, me=self.me)

    def list_items(self, owner: str | None, batch: str) -> list[Item]:
        # A batch reads only decoded fields; keeping every body would double a poll's memory.
        tasks = self.client.list_tasks(owner=owner, keep_raw=False)
        return [as_item(task, self.client.server.supports_display_name) for task in tasks]

    def with_capacity_waits(self, watched: Sequence[Item], fanout: Fanout) -> list[Item]:
        return list(watched)  # a task's agent starts when its workspace does

    def dashboard_path(self, item: Item) -> str:
        return f"/tasks/{item.owner_name}/{item.id}"

    def delivered_inputs(self, item: Item, *, read: bool = False) -> Delivered:
        logs = self.client.get_logs(item)
        if logs.snapshot and not starts_with_prompt(logs, item.initial_prompt or ""):
            raise DeliveryUnverifiedError(SNAPSHOT_INCOMPLETE)
        return Delivered(tuple(entry.content for entry in logs.entries if entry.type == "input"))

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Item:
        owner = resolved.owner.username
        try:
            task = self.client.create_task(
                owner=owner,
                template_version_id=resolved.version_id,
                prompt=desired.prompt,
                name=desired.coder_name,
                preset_id=resolved.preset.id if resolved.preset else None,
                display_name=desired.display_name,
            )
        except ConflictError as refused:
            # The name a task's workspace takes is the task's (`coderd/aitasks.go`, createTask:
            # `CreateWorkspaceRequest{Name: taskName}`), so that workspace is what holds it.
            name = desired.coder_name
            self.conflicts.holder(
                refused, owner, name, lambda: self.client.workspace_by_owner_and_name(owner, name)
            )
            raise  # held: the executor adopts our own task, or waits for a deleted one to go
        return as_item(task, self.client.server.supports_display_name)

    def create_refused(self, resolved: ResolvedTask) -> str | None:
        return self.versions.refusal(resolved.version_id)

    def claim_create(self, resolved: ResolvedTask, *, pinned: bool) -> bool:
        # Preflight judged a template's active version; a pinned one only a create can.
        return self.versions.claim(resolved.version_id, judged_before=not pinned)

    def settle_create(
        self, resolved: ResolvedTask, *, pinned: bool, error: BaseException | None
    ) -> None:
        refused = error.message if isinstance(error, TasksError) else ""
        refused = refused if is_not_an_ai_template(error) else ""
        self.versions.settle(
            resolved.version_id, claimed=pinned, accepted=error is None, refused=refused
        )

    def retire_refused_for_now(self, error: BaseException) -> bool:
        return False  # `retire` deletes, which Coder never refuses for a while

    def no_later_than(self, instant: float, why: str) -> AbstractContextManager[None]:
        return deadline.no_later_than(instant, why)

    def leftovers(self, batch: str) -> list[Item]:
        return []  # a task's workspace is deleted with the task

    def made_here(self, item: Item) -> bool | None:
        return None  # a task carries no mark of the command that created it

    def retire(self, item: Item) -> None:
        # Task names are unique (a concurrent create gets a 409 and adopts): never reached.
        self.client.delete_task(item)

    @property
    def recreates_failed(self) -> bool:
        return True  # a failed agent's task is made again; `send` cannot restart it

    def send(self, item: Item, message: Message) -> bool:
        self.client.send_input(item, message.text)  # AgentAPI refuses a busy agent itself
        return True

    def delete(self, item: Item) -> None:
        self.client.delete_task(item)

    def resume(self, item: Item) -> None:
        self.client.resume_task(item)

    def finished_items(self, batch: str) -> list[Item]:
        return []  # a paused task stays listed, and Tasks clean up no other way

    def clean_up_pending(self, items: Sequence[tuple[Item, str]]) -> set[str]:
        return {item.id for item, after in items if after == "stop" and not _stopped(item)}

    def clean_up(self, item: Item, after: str) -> str:
        # Preflight refuses `remove` on Tasks, and `stop` where the server cannot pause.
        if after != "stop" or _stopped(item):
            return ""
        self.client.pause_task(item)  # one attempt: a refusal is raised, and asked again
        return STOPPED

    def details(self, item: Item, *, last_text: bool = False) -> ItemDetails:
        # The agent's last word is its state message; a pull request, its state's link.
        return ItemDetails(pull_request=item.pull_request, last_message=item.summary or "")


def _stopped(task: Item) -> bool:
    """Paused, or its stop already under way (Coder shows `unknown` while the stop job runs)."""
    return task.status == "paused" or task.workspace_status in STOPPED_WORKSPACE


#: Why a stored snapshot cannot count delivered follow-ups (CONTRACT 3.2: at most 64 KiB).
SNAPSHOT_INCOMPLETE = (
    "the task's log snapshot does not reach back to its initial prompt, so it may omit "
    "delivered follow-ups"
)


def starts_with_prompt(logs: TaskLogs, prompt: str) -> bool:
    """Whether `logs` provably hold the whole transcript: its first message is the prompt.

    AgentAPI numbers messages from 0, and the first is the initial prompt. A snapshot of a
    paused or starting task keeps only the newest 64 KiB (or is empty when none was taken),
    so anything else may have lost early inputs.
    """
    if not logs.entries:
        return False
    first = logs.entries[0]
    return first.id == 0 and first.type == "input" and (first.content.strip() == prompt.strip())


def as_item(task: Task, display_names: bool = True) -> Item:
    """A Coder task as a batch item: its fields as Coder sent them, the agent's state
    normalised, and what its state says of the result (a pull request link, its message).

    `display_names`: whether the server has display names (v2.29+), which ownership reads
    beside the name."""
    state = task.current_state
    return Item(
        id=task.id,
        name=task.name,
        owner_id=task.owner_id,
        owner_name=task.owner_name,
        status=task.status,
        current_state=AgentState(state.normalized_state, state.message, state.timestamp)
        if state is not None
        else None,
        created_at=task.created_at,
        updated_at=task.updated_at,
        display_name=task.display_name if display_names else None,
        initial_prompt=task.initial_prompt,
        template_id=task.template_id,
        template_version_id=task.template_version_id,
        template_name=task.template_name,
        workspace_id=task.workspace_id,
        workspace_status=task.workspace_status,
        workspace_build_number=task.workspace_build_number,
        # The agent's last word is its state message; a pull request, its state's link.
        pull_request=pull_request_from_uri(state.uri if state is not None else ""),
        summary=task.message,
    )
