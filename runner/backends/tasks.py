"""The batch backend over Coder's Tasks API (Coder v2.28 to v2.36)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.backends.clean_up import STOPPED, STOPPED_WORKSPACE, while_building
from runner.backends.conflicts import NameConflicts
from runner.backends.pull_requests import pull_request_from_uri
from runner.coder.client import CoderClient
from runner.coder.models import Task, TaskLogs, User
from runner.coder.version import ServerInfo
from runner.errors import ConflictError, DeliveryUnverifiedError
from runner.execute.results import Cost, ItemDetails
from runner.fanout import Fanout
from runner.manifest.model import DesiredTask
from runner.preflight import ResolvedTask, preflight, require_tasks_clean_up


class TasksBackend:
    """Tasks as batch items: ownership from name and display name, delivery from the logs."""

    def __init__(self, client: CoderClient) -> None:
        self.client = client
        self.conflicts = NameConflicts()
        self._me: User | None = None

    @property
    def kind(self) -> str:
        return "tasks"

    @property
    def server(self) -> ServerInfo:
        return self.client.server

    @property
    def unique_names(self) -> bool:
        return True  # a concurrent create of a name gets a 409 and adopts

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

    def cost(self, item: Task) -> Cost | None:
        return None

    def require_creatable(
        self, creating: Sequence[DesiredTask], resolved: Mapping[str, ResolvedTask]
    ) -> None:
        pass  # preflight resolved a template version for every task

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        require_tasks_clean_up(desired, can_pause=self.client.server.supports_pause)
        return preflight(self.client, desired, me=self.me)

    def list_items(self, owner: str | None, batch: str) -> list[Task]:
        # A batch reads only decoded fields; keeping every body would double a poll's memory.
        return self.client.list_tasks(owner=owner, keep_raw=False)

    def with_capacity_waits(self, watched: Sequence[Task], fanout: Fanout) -> list[Task]:
        return list(watched)  # a task's agent starts when its workspace does

    def ownership_mark(self, item: Task) -> str | None:
        return self.client.server.ownership_mark(item)

    def dashboard_path(self, item: Task) -> str:
        return f"/tasks/{item.owner_name}/{item.id}"

    def delivered_inputs(self, item: Task, *, read: bool = False) -> tuple[str, ...]:
        logs = self.client.get_logs(item)
        if logs.snapshot and not starts_with_prompt(logs, item):
            raise DeliveryUnverifiedError(SNAPSHOT_INCOMPLETE)
        return tuple(entry.content for entry in logs.entries if entry.type == "input")

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Task:
        owner = resolved.owner.username
        try:
            return self.client.create_task(
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

    def leftovers(self, batch: str) -> list[Task]:
        return []  # a task's workspace is deleted with the task

    def retire(self, item: Task) -> None:
        # Task names are unique (a concurrent create gets a 409 and adopts): never reached.
        self.client.delete_task(item)

    @property
    def recreates_failed(self) -> bool:
        return True  # a failed agent's task is made again; `send` cannot restart it

    def send(self, item: Task, text: str, *, after: str | None, interrupt: bool = False) -> bool:
        self.client.send_input(item, text)  # AgentAPI refuses a busy agent itself
        return True

    def delete(self, item: Task) -> None:
        self.client.delete_task(item)

    def resume(self, item: Task) -> None:
        self.client.resume_task(item)

    def finished_items(self, batch: str) -> list[Task]:
        return []  # a paused task stays listed, and Tasks clean up no other way

    def clean_up_pending(self, items: Sequence[tuple[Task, str]]) -> set[str]:
        return {item.id for item, after in items if after == "stop" and not _stopped(item)}

    def clean_up(self, item: Task, after: str) -> str:
        # Preflight refuses `remove` on Tasks, and `stop` where the server cannot pause.
        if after != "stop" or _stopped(item):
            return ""
        while_building(lambda: self.client.pause_task(item))
        return STOPPED

    def details(self, item: Task, *, last_text: bool = False) -> ItemDetails:
        # The agent's last word is its state message; a pull request, its state's link.
        uri = item.current_state.uri if item.current_state else ""
        return ItemDetails(pull_request=pull_request_from_uri(uri), last_message=item.message)


def _stopped(task: Task) -> bool:
    """Paused, or its stop already under way (Coder shows `unknown` while the stop job runs)."""
    return task.status == "paused" or task.workspace_status in STOPPED_WORKSPACE


#: Why a stored snapshot cannot count delivered follow-ups (CONTRACT 3.2: at most 64 KiB).
SNAPSHOT_INCOMPLETE = (
    "the task's log snapshot does not reach back to its initial prompt, so it may omit "
    "delivered follow-ups"
)


def starts_with_prompt(logs: TaskLogs, task: Task) -> bool:
    """Whether `logs` provably hold the whole transcript: its first message is the prompt.

    AgentAPI numbers messages from 0, and the first is the initial prompt. A snapshot of a
    paused or starting task keeps only the newest 64 KiB (or is empty when none was taken),
    so anything else may have lost early inputs.
    """
    if not logs.entries:
        return False
    first = logs.entries[0]
    return (
        first.id == 0
        and first.type == "input"
        and (first.content.strip() == task.initial_prompt.strip())
    )
