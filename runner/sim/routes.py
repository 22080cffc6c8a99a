"""The simulated API's routes: which (method, path) does what, per simulated version.

Each handler takes the request and returns (status, JSON body or None). Unknown paths are
`Route not found.`; a known path with another method is 405, as chi answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.sim.apierror import ROUTE_NOT_FOUND, ApiError, not_found
from runner.sim.directory import (
    Directory,
    SimUser,
    org_json,
    preset_json,
    template_json,
    template_version_json,
    user_json,
)
from runner.sim.search import parse_search
from runner.sim.task_record import is_uuid
from runner.sim.tasks import TaskStore


@dataclass
class Request:
    """What a handler needs from one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    caller: SimUser | None
    params: dict[str, str]
    #: Every query parameter in order, repeated keys included (`label=` on the chat list).
    query_items: tuple[tuple[str, str], ...] = ()

    def json(self) -> dict[str, Any]:
        """The decoded JSON object body; 400 as Coder answers when it is not valid JSON.

        As Go's `json.Decoder` into a struct (`coderd/httpapi/httpapi.go` `Read`): `null`
        leaves the struct empty, and an empty body is an `EOF` error.
        """
        if not self.body.strip():
            raise ApiError(400, "Request body must be valid JSON.", detail="EOF")
        try:
            value = json.loads(self.body)
        except ValueError as error:
            raise ApiError(400, "Request body must be valid JSON.", detail=str(error)) from None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ApiError(
                400,
                "Request body must be valid JSON.",
                detail=f"json: cannot unmarshal {type(value).__name__} into Go value",
            )
        return value

    @property
    def user(self) -> SimUser:
        assert self.caller is not None  # authenticated routes only
        return self.caller


Result = tuple[int, Any]
Handler = Callable[[Request], Result]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]
    authenticated: bool = True


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")


class Api:
    """Route table and handlers over the directory and the task store."""

    def __init__(
        self,
        store: TaskStore,
        directory: Directory,
        buildinfo: Callable[[], dict[str, Any]],
        *,
        tasks_served: bool,
    ) -> None:
        self.store = store
        self.directory = directory
        self.routes: list[Route] = [
            Route(_pattern("/api/v2/buildinfo"), {"GET": lambda r: (200, buildinfo())}, False),
            Route(_pattern("/api/v2/users/{user}"), {"GET": self.user}),
            Route(_pattern("/api/v2/users/{user}/organizations"), {"GET": self.user_orgs}),
            Route(_pattern("/api/v2/templates"), {"GET": self.templates}),
            Route(_pattern("/api/v2/organizations/{org}/templates/{name}"), {"GET": self.template}),
            Route(
                _pattern("/api/v2/organizations/{org}/templates/{name}/versions/{version}"),
                {"GET": self.template_version_by_name},
            ),
            Route(_pattern("/api/v2/templateversions/{id}"), {"GET": self.template_version}),
            Route(_pattern("/api/v2/templateversions/{id}/presets"), {"GET": self.presets}),
        ]
        if tasks_served:
            self._add_task_routes()

    def _add_task_routes(self) -> None:
        version = self.store.version
        bases = ["/api/v2", "/api/experimental"] if version.is_ga else ["/api/experimental"]
        for base in bases:
            task = f"{base}/tasks/{{user}}/{{task}}"
            self.routes += [
                Route(_pattern(f"{base}/tasks"), {"GET": self.list_tasks}),
                Route(_pattern(f"{base}/tasks/{{user}}"), {"POST": self.create_task}),
                Route(_pattern(task), {"GET": self.get_task, "DELETE": self.delete_task}),
                Route(_pattern(f"{task}/send"), {"POST": self.send}),
                Route(_pattern(f"{task}/logs"), {"GET": self.logs}),
            ]
            if version.is_ga:
                self.routes.append(Route(_pattern(f"{task}/input"), {"PATCH": self.update_input}))
            if version.has_pause:
                self.routes += [
                    Route(_pattern(f"{task}/pause"), {"POST": self.pause}),
                    Route(_pattern(f"{task}/resume"), {"POST": self.resume}),
                ]

    def match(self, method: str, path: str) -> tuple[Route, Handler, dict[str, str]]:
        """The route and handler for a request; ApiError 404/405 when there is none."""
        allowed = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            handler = route.methods.get(method)
            if handler is not None:
                return route, handler, found.groupdict()
            allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed")
        raise ApiError(404, ROUTE_NOT_FOUND)

    # Users and organizations ------------------------------------------------------------

    def user(self, request: Request) -> Result:
        return 200, user_json(
            self.store.resolve_user(request.user, request.params["user"]), self.store.version
        )

    def user_orgs(self, request: Request) -> Result:
        user = self.store.resolve_user(request.user, request.params["user"])
        return 200, [
            org_json(self.directory.org(org_id), self.store.version) for org_id in user.org_ids
        ]

    def _org(self, caller: SimUser, ref: str) -> Any:
        org = self.directory.find_org(ref)
        if org is None or not self.directory.can_see_org(caller, org):
            raise not_found()
        return org

    # Templates ----------------------------------------------------------------------------

    def _admin(self) -> SimUser:
        return self.directory.users[0]

    def templates(self, request: Request) -> Result:
        terms = parse_search(
            request.query.get("q", ""),
            allowed=("organization", "has-ai-task", "name", "exact_name", "deprecated"),
            message="Invalid template search query.",
        )
        caller = request.user
        found = []
        for template in self.directory.templates:
            org = self.directory.org(template.org_id)
            if not self.directory.can_see_org(caller, org):
                continue
            if "organization" in terms and terms["organization"] not in (org.id, org.name):
                continue
            ai = terms.get("has-ai-task")
            if ai is not None and (ai == "true") != template.has_ai_task:
                continue
            if "exact_name" in terms and terms["exact_name"] != template.name:
                continue
            if "name" in terms and terms["name"] not in template.name:
                continue
            found.append(template_json(template, org, self._admin(), self.store.version))
        return 200, sorted(found, key=lambda t: (t["name"], t["organization_name"]))

    def _template(self, request: Request) -> Any:
        org = self._org(request.user, request.params["org"])
        name = request.params["name"].lower()
        for template in self.directory.templates:
            if template.org_id == org.id and template.name == name:
                return org, template
        raise not_found()

    def template(self, request: Request) -> Result:
        org, template = self._template(request)
        return 200, template_json(template, org, self._admin(), self.store.version)

    def template_version_by_name(self, request: Request) -> Result:
        _, template = self._template(request)
        wanted = request.params["version"]
        for version in template.versions:
            if version.name == wanted:
                return 200, template_version_json(version, template, self._admin())
        raise ApiError(404, f'No template version found by name "{wanted}".')

    def _version(self, request: Request) -> Any:
        version_id = request.params["id"]
        if not is_uuid(version_id):
            raise ApiError(400, f'Invalid UUID "{version_id}".')
        version = self.directory.find_version(version_id)
        caller = request.user
        if version is None or not (caller.owner or version.org_id in caller.org_ids):
            raise not_found()
        return version

    def template_version(self, request: Request) -> Result:
        version = self._version(request)
        template = self.directory.template(version.template_id)
        return 200, template_version_json(version, template, self._admin())

    def presets(self, request: Request) -> Result:
        return 200, [preset_json(p) for p in self._version(request).presets]

    # Tasks --------------------------------------------------------------------------------

    def list_tasks(self, request: Request) -> Result:
        return 200, self.store.list_tasks(request.user, request.query.get("q", ""))

    def create_task(self, request: Request) -> Result:
        body = request.json()
        return 201, self.store.create(request.user, request.params["user"], body)

    def get_task(self, request: Request) -> Result:
        p = request.params
        return 200, self.store.get(request.user, p["user"], p["task"])

    def delete_task(self, request: Request) -> Result:
        p = request.params
        self.store.delete(request.user, p["user"], p["task"])
        return 202, None

    def _input(self, request: Request) -> str:
        value = request.json().get("input")
        return value if isinstance(value, str) else ""

    def send(self, request: Request) -> Result:
        p = request.params
        text = self._input(request)
        self.store.send(request.user, p["user"], p["task"], text)
        return 204, None

    def logs(self, request: Request) -> Result:
        p = request.params
        return 200, self.store.logs(request.user, p["user"], p["task"])

    def pause(self, request: Request) -> Result:
        p = request.params
        return 202, self.store.pause(request.user, p["user"], p["task"])

    def resume(self, request: Request) -> Result:
        p = request.params
        return 202, self.store.resume(request.user, p["user"], p["task"])

    def update_input(self, request: Request) -> Result:
        p = request.params
        text = self._input(request)
        self.store.update_input(request.user, p["user"], p["task"], text)
        return 204, None
