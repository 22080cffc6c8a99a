"""The batch backend over Coder's Tasks API (Coder v2.28 to v2.36)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.coder.client import CoderClient
from runner.coder.models import Task, User
from runner.coder.version import ServerInfo
from runner.execute.results import ItemDetails
from runner.manifest.model import DesiredTask
from runner.preflight import ResolvedTask, preflight


class TasksBackend:
    """Tasks as batch items: ownership from name and display name, delivery from the logs."""

    def __init__(self, client: CoderClient) -> None:
        self.client = client

    @property
    def kind(self) -> str:
        return "tasks"

    @property
    def server(self) -> ServerInfo:
        return self.client.server

    @property
    def can_resume(self) -> bool:
        return self.client.server.supports_pause

    def me(self) -> User:
        return self.client.me()

    def resolve(self, desired: Sequence[DesiredTask]) -> Mapping[str, ResolvedTask]:
        return preflight(self.client, desired)

    def list_items(self, owner: str | None) -> list[Task]:
        return self.client.list_tasks(owner=owner)

    def ownership_mark(self, item: Task) -> str | None:
        return self.client.server.ownership_mark(item)

    def delivered_inputs(self, item: Task) -> tuple[str, ...]:
        logs = self.client.get_logs(item)
        return tuple(entry.content for entry in logs.entries if entry.type == "input")

    def create(self, desired: DesiredTask, resolved: ResolvedTask) -> Task:
        return self.client.create_task(
            owner=resolved.owner.username,
            template_version_id=resolved.version.id,
            prompt=desired.prompt,
            name=desired.coder_name,
            preset_id=resolved.preset.id if resolved.preset else None,
            display_name=desired.display_name,
        )

    def send(self, item: Task, text: str) -> None:
        self.client.send_input(item, text)

    def delete(self, item: Task) -> None:
        self.client.delete_task(item)

    def resume(self, item: Task) -> None:
        self.client.resume_task(item)

    def details(self, item: Task) -> ItemDetails:
        # Tasks track no pull request; the agent's last word is its state message.
        return ItemDetails(last_message=item.message)
