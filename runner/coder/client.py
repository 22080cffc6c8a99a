"""The Coder Tasks API client: the one module that speaks HTTP to a deployment.

Requests go through `ApiTransport` (retries, rate limits, debug lines); this module knows the
endpoints, the API generations and Coder's CLI conventions for naming tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from runner.coder import routes
from runner.coder.base import ClientBase, decode, unexpected
from runner.coder.config import Connection
from runner.coder.errors import RESOURCE_NOT_FOUND, is_route_not_found
from runner.coder.models import (
    Organization,
    Preset,
    Task,
    TaskLogs,
    TaskRef,
    Template,
    TemplateVersion,
    User,
)
from runner.coder.transport import RetryPolicy
from runner.coder.version import (
    GENERATION_ROUTES,
    ServerInfo,
    deprecation_notices,
    development_notices,
    development_server_info,
    is_development_build,
    no_tasks_message,
    server_info,
)
from runner.errors import (
    ApiError,
    InvalidInputError,
    NotFoundError,
    TaskNotFoundError,
    UnsupportedServerError,
)

__all__ = ["CoderClient", "ServerInfo", "directory_client"]


class CoderClient(ClientBase[ServerInfo]):
    """Typed access to a Coder deployment's Tasks API, on both API generations.

    Detects the generation lazily from buildinfo on first use (`server`: raises
    UnsupportedServerError for < v2.28, and from v2.35 when the task routes are not served).
    Retries reads on 5xx and connection failures (bounded, with jitter), waits out 429 using
    `Retry-After`, and never repeats a create or send blindly: a lost response raises
    `UncertainOutcomeError`. `on_debug` receives one redacted line per request when set.
    `transport`, `sleep`, `clock` and `jitter` exist for tests (a fake transport, no real
    sleeping).
    """

    def __init__(
        self, connection: Connection, *, tasks_required: bool = True, **transport_options: Any
    ) -> None:
        """`tasks_required=False` makes a client for templates, users and organizations only,
        usable on a deployment without Tasks (the Chats backend resolves with it).
        `transport_options` go to `ApiTransport` (see `ClientBase`)."""
        super().__init__(connection, **transport_options)
        self._server_first = tasks_required

    # -- deployment -------------------------------------------------------------------------

    def notices(self) -> list[str]:
        """One-line notices for the user (e.g. Tasks deprecated on v2.35+); empty when none."""
        return development_notices(self.server) + deprecation_notices(self.server)

    def me(self) -> User:
        """The user the token belongs to."""
        return User.from_json(self._object("GET", routes.USERS_ME))

    def get_user(self, user: str) -> User:
        """A user by username, UUID or `me`."""
        return User.from_json(self._object("GET", routes.user(user)))

    def my_organizations(self) -> list[Organization]:
        """The organizations the token's user belongs to."""
        return [Organization.from_json(o) for o in self._get_list(routes.MY_ORGANIZATIONS)]

    def list_templates(self, organization_id: str, *, ai_only: bool = False) -> list[Template]:
        """Templates of an organization; with `ai_only`, those with a `coder_ai_task`."""
        query = routes.templates_query(organization_id, ai_only=ai_only)
        items = self._get_list(routes.TEMPLATES, params={"q": query})
        return [Template.from_json(t) for t in items]

    def get_template(self, organization: str, name: str) -> Template:
        """A template by organization (name or UUID) and template name."""
        return Template.from_json(self._object("GET", routes.template(organization, name)))

    def get_template_version(
        self, organization: str, template: str, version: str
    ) -> TemplateVersion:
        """A template version by organization, template name and version name."""
        path = routes.template_version_by_name(organization, template, version)
        return TemplateVersion.from_json(self._object("GET", path))

    def template_version(self, version_id: str) -> TemplateVersion:
        """A template version by id."""
        return TemplateVersion.from_json(self._object("GET", routes.template_version(version_id)))

    def presets(self, version_id: str) -> list[Preset]:
        """The presets of a template version (Coder sends Go's capitalised keys)."""
        return [Preset.from_json(p) for p in self._get_list(routes.presets(version_id))]

    # -- tasks ------------------------------------------------------------------------------

    def list_tasks(
        self,
        *,
        owner: str | None = "me",
        status: str | None = None,
        organization: str | None = None,
        keep_raw: bool = True,
    ) -> list[Task]:
        """Tasks matching the filters, newest first. `owner=None` means every visible task;
        `keep_raw=False` keeps only the decoded fields (see `Task.from_json`)."""
        query = routes.task_query(owner=owner, organization=organization, status=status)
        path = self._tasks.collection()
        data = self._task_json("GET", path, params={"q": query})
        items = data.get("tasks") if isinstance(data, Mapping) else None
        if items is None and isinstance(data, Mapping) and "tasks" in data:
            items = []  # Go encodes an empty slice as null
        if not isinstance(items, list):
            raise unexpected(200, "GET", path, "no `tasks` list in the response")
        ga = self.server.supports_display_name
        tasks: list[Task] = []
        for index, item in enumerate(items):
            # Each body is let go once decoded, so a poll of thousands never holds every
            # decoded body and every record at once.
            items[index] = None
            if isinstance(item, Mapping):
                tasks.append(Task.from_json(item, has_display_name=ga, keep_raw=keep_raw))
        return tasks

    def get_task(self, task_id: str, *, owner: str = "me") -> Task:
        """One task by id (GA servers also take a name). `me` works for any visible task."""
        path = self._tasks.task(owner, task_id)
        return self._task(self._task_json("GET", path), "GET", path)

    def resolve_task(self, identifier: str) -> Task:
        """A task from `name`, `owner/name` or a UUID, the way Coder's CLI resolves them."""
        text = identifier.strip()
        if routes.is_uuid(text):
            try:
                return self.get_task(text)
            except NotFoundError as exc:
                reason = exc.api_message or RESOURCE_NOT_FOUND
                raise TaskNotFoundError(
                    f"task {routes.go_quote(text)} not found: {reason}"
                ) from None
        parts = text.split("/")
        if len(parts) > 2 or not all(parts):
            raise InvalidInputError(f"invalid task identifier: {routes.go_quote(identifier)}")
        owner, name = ("me", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        if self.server.generation == "experimental":
            return self._find_by_listing(owner, name)
        try:
            return self.get_task(name, owner=owner)
        except NotFoundError as exc:
            raise _task_not_found(name, owner, exc.api_message or RESOURCE_NOT_FOUND) from None

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
        """Create a task for `owner` (username, UUID or `me`); never repeated blindly.

        `display_name` is sent to GA servers only; a nil preset id means no preset.
        """
        self._refuse_token(
            "the task's prompt, name or display name", prompt, name or "", display_name or ""
        )
        body: dict[str, Any] = {"template_version_id": template_version_id}
        if preset_id and preset_id != routes.NIL_UUID:
            body["template_version_preset_id"] = preset_id
        body["input"] = prompt
        if name:
            body["name"] = name
        if display_name and self.server.supports_display_name:
            body["display_name"] = display_name
        path = self._tasks.owner(owner)
        data = self._task_json("POST", path, body=body, policy=RetryPolicy.WRITE)
        return self._task(data, "POST", path)

    def delete_task(self, task: TaskRef) -> None:
        """Delete; a retry that finds the task gone counts as done."""
        path = self._tasks.task(task.owner_name or "me", task.id)
        self._task_request("DELETE", path, policy=RetryPolicy.DELETE)

    def send_input(self, task: TaskRef, text: str) -> None:
        """Send input. Raises AgentBusyError when the agent is working."""
        self._refuse_token("the input", text)
        path = self._tasks.action("me", task.id, "send")
        self._task_request("POST", path, body={"input": text}, policy=RetryPolicy.WRITE)

    def get_logs(self, task: TaskRef) -> TaskLogs:
        """The task's logs: live, or (v2.31.1+, task not active) the stored snapshot."""
        path = self._tasks.action("me", task.id, "logs")
        data = self._task_json("GET", path)
        if not isinstance(data, Mapping):
            raise unexpected(200, "GET", path, "the logs response is not an object")
        return TaskLogs.from_json(data, has_snapshots=self.server.supports_pause)

    def pause_task(self, task: TaskRef) -> None:
        """Pause (stop the workspace of) a task; needs Coder v2.31.1 or later."""
        self.require_pause_support("pause")
        # Coder's CLI addresses pause and resume by the task's owner (send and logs use `me`).
        path = self._tasks.action(task.owner_name or "me", task.id, "pause")
        self._task_request("POST", path, policy=RetryPolicy.WRITE)

    def resume_task(self, task: TaskRef) -> None:
        """Resume a paused task; needs Coder v2.31.1 or later."""
        self.require_pause_support("resume")
        path = self._tasks.action(task.owner_name or "me", task.id, "resume")
        self._task_request("POST", path, policy=RetryPolicy.WRITE)

    def update_input(self, task: Task, text: str) -> None:
        """Replace a paused task's prompt (`PATCH …/input`, GA servers only)."""
        if not self.server.supports_display_name:
            raise UnsupportedServerError(
                f"changing a task's input needs Coder v2.29 or later; this deployment runs "
                f"Coder {self.server.short_version}"
            )
        path = self._tasks.action("me", task.id, "input")
        self._task_request("PATCH", path, body={"input": text}, policy=RetryPolicy.WRITE)

    # -- internals --------------------------------------------------------------------------

    @property
    def _tasks(self) -> routes.TaskRoutes:
        return routes.TaskRoutes(self.server.task_base)

    def _learn_server(self) -> ServerInfo:
        version, dashboard_url = self._buildinfo()
        if is_development_build(version):
            return development_server_info(version, self._probe_generation(version), dashboard_url)
        try:
            info = server_info(version, dashboard_url)
        except ValueError:
            raise UnsupportedServerError(self._not_coder(version)) from None
        # v2.36 may have Tasks off and v2.37 serves them only on opt-in (CHATS-CONTRACT 7.1):
        # the deployment's own task list says, whatever its version.
        if info.tasks_may_be_off and not self._routed(info.task_base):
            raise UnsupportedServerError(no_tasks_message(info))
        return info

    def _routed(self, path: str) -> bool:
        """Whether the deployment routes this task list.

        Any answer but `Route not found.` (even 401 or 400) comes from a routed handler or its
        middleware, so the route exists (CONTRACT 1.5).
        """
        try:
            self._http.request("GET", path, params={"q": routes.task_query(owner="me")})
        except ApiError as exc:
            return not is_route_not_found(exc)
        return True

    def _probe_generation(self, version: str) -> str:
        """The generation a development build's routes show: the first task list it answers."""
        for generation, path in GENERATION_ROUTES:
            if self._routed(path):
                return generation
        raise UnsupportedServerError(
            f"this deployment (Coder {version}, a development build) does not serve Coder "
            f"Tasks: neither {' nor '.join(path for _, path in GENERATION_ROUTES)} is routed"
        )

    def require_pause_support(self, action: str) -> None:
        """Raise UnsupportedServerError when the deployment predates pause/resume (v2.31.1)."""
        if not self.server.supports_pause:
            raise UnsupportedServerError(
                f"{action} needs Coder v2.31.1 or later; this deployment runs Coder "
                f"{self.server.short_version}"
            )

    def _find_by_listing(self, owner: str, name: str) -> Task:
        # v2.28 task paths take UUIDs only, so names are matched client-side, case-sensitively.
        match_id = routes.is_uuid(name)
        for task in self.list_tasks(owner=owner):
            if (task.id if match_id else task.name) == name:
                return task
        raise _task_not_found(name, owner, RESOURCE_NOT_FOUND)

    def _task_request(self, method: str, path: str, **request: Any) -> httpx.Response:
        """`_request` on a task route, where `Route not found.` means Tasks are switched off."""
        try:
            return self._request(method, path, **request)
        except ApiError as exc:
            if is_route_not_found(exc):
                raise UnsupportedServerError(no_tasks_message(self.server)) from None
            raise

    def _task_json(self, method: str, path: str, **request: Any) -> Any:
        return decode(self._task_request(method, path, **request))

    def _task(self, data: Any, method: str, path: str) -> Task:
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise unexpected(200, method, path, "expected a task object")
        return Task.from_json(data, has_display_name=self.server.supports_display_name)

    def _get_list(
        self, path: str, *, params: Mapping[str, str] | None = None
    ) -> list[Mapping[str, Any]]:
        data = decode(self._request("GET", path, params=params))
        if data is None:
            return []  # Go encodes an empty slice as null
        if not isinstance(data, list):
            raise unexpected(200, "GET", path, "expected a JSON array")
        return [item for item in data if isinstance(item, Mapping)]


def directory_client(over: ClientBase[Any]) -> CoderClient:
    """A client for templates, users and organizations only (usable without Tasks), sending
    through `over`'s transport: a Chats command's lookups share its pacer and debug log."""
    return CoderClient(over.connection, tasks_required=False, http=over.transport)


def _task_not_found(name: str, owner: str, reason: str) -> TaskNotFoundError:
    return TaskNotFoundError(
        f"task {routes.go_quote(name)} not found for owner {routes.go_quote(owner)}: {reason}"
    )
