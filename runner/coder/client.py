"""The Coder Tasks API client: the one module that speaks HTTP to a deployment.

INTERFACE SKELETON: signatures and contracts are fixed (the CLI, planner and executor code
against them); bodies are filled in by the client implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.coder.config import Connection
from runner.coder.models import (
    Organization,
    Preset,
    Task,
    TaskLogs,
    Template,
    TemplateVersion,
    User,
)


@dataclass(frozen=True)
class ServerInfo:
    """What `GET /api/v2/buildinfo` told us, and what follows from it."""

    version: str  # as the server reports it, e.g. "v2.34.2+abc1234"
    major: int
    minor: int
    patch: int
    generation: str  # "experimental" (v2.28.x) or "ga" (v2.29+)
    dashboard_url: str

    @property
    def task_base(self) -> str:
        """`/api/experimental/tasks` on v2.28, `/api/v2/tasks` from v2.29."""
        return "/api/experimental/tasks" if self.generation == "experimental" else "/api/v2/tasks"

    @property
    def supports_pause(self) -> bool:
        """pause/resume and log snapshots arrived in v2.31.1."""
        return (self.major, self.minor, self.patch) >= (2, 31, 1)

    @property
    def supports_display_name(self) -> bool:
        return self.generation == "ga"

    @property
    def deprecated(self) -> bool:
        """Tasks are deprecated from v2.35 (and gone in v2.37)."""
        return (self.major, self.minor) >= (2, 35)


class CoderClient:
    """Typed access to a Coder deployment's Tasks API, on both API generations.

    Detects the generation lazily from buildinfo on first use. Retries reads on 5xx and
    connection failures (bounded, with jitter), waits out 429 using `Retry-After`, and never
    repeats a create or send blindly: a lost response raises `UncertainOutcomeError`.
    `on_debug` receives one redacted line per request when set.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        on_debug: Callable[[str], None] | None = None,
        max_retries: int = 4,
    ) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- deployment -------------------------------------------------------------------------

    @property
    def server(self) -> ServerInfo:
        """Buildinfo, fetched once. Raises UnsupportedServerError for < v2.28 or v2.37+."""
        raise NotImplementedError

    def notices(self) -> list[str]:
        """One-line notices for the user (e.g. Tasks deprecated on v2.35+); empty when none."""
        raise NotImplementedError

    def me(self) -> User:
        raise NotImplementedError

    def get_user(self, user: str) -> User:
        """A user by username, UUID or `me`."""
        raise NotImplementedError

    def my_organizations(self) -> list[Organization]:
        raise NotImplementedError

    def list_templates(self, organization_id: str, *, ai_only: bool = False) -> list[Template]:
        raise NotImplementedError

    def get_template(self, organization: str, name: str) -> Template:
        raise NotImplementedError

    def get_template_version(
        self, organization: str, template: str, version: str
    ) -> TemplateVersion:
        raise NotImplementedError

    def template_version(self, version_id: str) -> TemplateVersion:
        raise NotImplementedError

    def presets(self, version_id: str) -> list[Preset]:
        raise NotImplementedError

    # -- tasks ------------------------------------------------------------------------------

    def list_tasks(
        self,
        *,
        owner: str | None = "me",
        status: str | None = None,
        organization: str | None = None,
    ) -> list[Task]:
        """Tasks matching the filters, newest first. `owner=None` means every visible task."""
        raise NotImplementedError

    def get_task(self, task_id: str, *, owner: str = "me") -> Task:
        raise NotImplementedError

    def resolve_task(self, identifier: str) -> Task:
        """A task from `name`, `owner/name` or a UUID, the way Coder's CLI resolves them."""
        raise NotImplementedError

    def create_task(
        self,
        *,
        owner: str,
        template_version_id: str,
        prompt: str,
        name: str | None = None,
        preset_id: str | None = None,
        display_name: str | None = None,
    ) -> Task:
        raise NotImplementedError

    def delete_task(self, task: Task) -> None:
        """Delete; a retry that finds the task gone counts as done."""
        raise NotImplementedError

    def send_input(self, task: Task, text: str) -> None:
        """Send input. Raises AgentBusyError when the agent is working."""
        raise NotImplementedError

    def get_logs(self, task: Task) -> TaskLogs:
        raise NotImplementedError

    def pause_task(self, task: Task) -> None:
        raise NotImplementedError

    def resume_task(self, task: Task) -> None:
        raise NotImplementedError
