"""Swagger 2.0 subsets of Coder's API as JSON Schema, for contract tests.

One subset per server generation (`SUBSETS`, CONTRACT section 11): v2.28.x, v2.29-v2.30,
v2.31.x and v2.32+ (GA HEAD). `contract_validator(swagger, "codersdk.Task", ...)` gives a
jsonschema validator for one definition. It allows only the deviations CONTRACT.md documents
between swagger and the wire:

- `uuid.NullUUID` fields are a UUID string or null (swagger says `{uuid, valid}`);
- Go pointers, slices and maps without `omitempty` may be null (`NULLABLE`);
- before v2.32 `current_state.state` may be `failure` (`failure_state=True`);
- structs without json tags (`codersdk.Preset`) carry Go's field names (`ID`, `Name`);
- where a property has both an inline `enum` and a `$ref` to an enum type, the referenced type
  is authoritative: swagger's inline list for `WorkspaceBuild.reason` stops at `autostop`, while
  pause and resume builds carry `task_manual_pause` and `task_resume` (CONTRACT section 1).

`strict=True` forbids properties swagger does not list (catches inventions such as
`has_ai_task` on a template version, or `display_name` on v2.28). `required=True` requires
every property except the ones Go omits when empty (`OMITTED_WHEN_EMPTY`, read from the json
tags in `codersdk`). Reuse it for request bodies with `strict=True, required=False`.

`exchange_errors` judges one whole answered request (route, query, request and response body)
and `undeclared_read` one key the client read (`runner/coder/provenance.py`).
"""

from __future__ import annotations

import copy
import functools
import json
import re
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

#: The swagger subset of each server generation (CONTRACT section 11): (first version, file).
SUBSETS = (
    ((2, 28, 0), "tasks-swagger.json"),
    ((2, 29, 0), "tasks-swagger-v2.29.0.json"),
    ((2, 31, 0), "tasks-swagger-v2.31.1.json"),
    ((2, 32, 0), "tasks-swagger-ga-head.json"),
)

#: Properties Go omits when empty (`omitempty` in the json tag); every other listed property
#: must be present. Read from the structs in `codersdk/*.go` (embedded structs inlined) at
#: v2.28.11, v2.29.0, v2.31.1 and main a12b0518 (the union: a field's tag never changes
#: between those tags except where the field itself is new).
OMITTED_WHEN_EMPTY: dict[str, set[str]] = {
    "codersdk.BuildInfoResponse": {"webpush_public_key"},
    "codersdk.CreateTaskRequest": {"display_name", "name", "template_version_preset_id"},
    "codersdk.MatchedProvisioners": {"most_recently_seen"},
    "codersdk.MinimalUser": {"avatar_url", "name"},
    "codersdk.PatchTemplateVersionRequest": {"message"},
    "codersdk.ProvisionerJob": {
        "available_workers",
        "canceled_at",
        "completed_at",
        "error",
        "error_code",
        "started_at",
        "worker_id",
        "worker_name",
    },
    "codersdk.ProvisionerJobInput": {"error", "template_version_id", "workspace_build_id"},
    "codersdk.ProvisionerJobMetadata": {
        "workspace_build_transition",
        "workspace_id",
        "workspace_name",
    },
    "codersdk.SlimRole": {"organization_id"},
    "codersdk.Task": {"owner_avatar_url", "workspace_build_number", "workspace_status"},
    "codersdk.TaskLogsResponse": {"snapshot", "snapshot_at"},
    "codersdk.TemplateVersion": {
        "matched_provisioners",
        "organization_id",
        "template_id",
        "warnings",
    },
    "codersdk.User": {
        "avatar_url",
        "is_service_account",
        "last_seen_at",
        "name",
        "theme_preference",
    },
    "codersdk.WorkspaceAgent": {
        "directory",
        "disconnected_at",
        "expanded_directory",
        "first_connected_at",
        "instance_id",
        "last_connected_at",
        "latency",
        "ready_at",
        "started_at",
    },
    "codersdk.WorkspaceAgentHealth": {"reason"},
    "codersdk.WorkspaceAgentScript": {"exit_code", "status"},
    "codersdk.WorkspaceApp": {
        "command",
        "display_name",
        "group",
        "healthcheck",
        "icon",
        "subdomain_name",
        "tooltip",
        "url",
    },
    "codersdk.WorkspaceBuild": {
        "deadline",
        "has_ai_task",
        "has_external_agent",
        "matched_provisioners",
        "max_deadline",
        "workspace_owner_avatar_url",
    },
    "codersdk.WorkspaceResource": {"agents", "metadata"},
}
#: Properties that are Go pointers, slices or maps without `omitempty`: present, maybe null.
NULLABLE: dict[str, set[str]] = {
    "codersdk.Organization": {"default_org_member_roles"},
    "codersdk.PauseTaskResponse": {"workspace_build"},
    "codersdk.ResumeTaskResponse": {"workspace_build"},
    "codersdk.Preset": {"DesiredPrebuildInstances", "Parameters"},
    "codersdk.ProvisionerJob": {"tags"},
    "codersdk.Task": {
        "current_state",
        "workspace_agent_health",
        "workspace_agent_id",
        "workspace_agent_lifecycle",
        "workspace_app_id",
        "workspace_id",
    },
    "codersdk.TaskLogsResponse": {"logs"},
    "codersdk.TasksListResponse": {"tasks"},
    "codersdk.TemplateAutostartRequirement": {"days_of_week"},
    "codersdk.TemplateAutostopRequirement": {"days_of_week"},
    "codersdk.TransitionStats": {"P50", "P95"},
    "codersdk.User": {"organization_ids", "roles"},
    "codersdk.WorkspaceAgent": {
        "apps",
        "display_apps",
        "environment_variables",
        "log_sources",
        "parent_id",
        "scripts",
        "subsystems",
    },
    "codersdk.WorkspaceApp": {"statuses"},
    "codersdk.WorkspaceBuild": {"resources", "template_version_preset_id"},
}
#: Structs without json tags: Go encodes the field names (CONTRACT 1.6: `ID`, `Name`, …),
#: while swagger lists them lower-cased.
GO_FIELD_NAMES = {"codersdk.Preset", "codersdk.PresetParameter", "codersdk.TransitionStats"}
_NULL_UUID = "#/definitions/uuid.NullUUID"


def subset_for(version: str) -> str:
    """The subset file of a server version (`2.34.2`, `v2.31.1+sim`, `v2.30.0-rc.1`).

    A development build (`v0.0.0-devel+abc123`) is judged as the release the simulator makes
    it behave as.
    """
    if "-devel" in version:
        from runner.sim.versions import SimVersion

        version = str(SimVersion.parse(version))
    core = version.lstrip("v").split("+", 1)[0].split("-", 1)[0]
    parts = tuple(int(p) for p in core.split(".")[:3])
    chosen = SUBSETS[0][1]
    for first, name in SUBSETS:
        if parts >= first:
            chosen = name
    return chosen


def reports_failure_state(version: str) -> bool:
    """Before v2.32 `current_state.state` passes the agent's `failure` through (CONTRACT 2.2)."""
    return subset_for(version) != SUBSETS[-1][1]


@functools.cache
def _read_subset(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def load_swagger(
    reference: Path, *, ga: bool | None = None, version: str | None = None
) -> dict[str, Any]:
    """The subset of `version`, or the v2.28 (`ga=False`) or GA HEAD (`ga=True`) subset."""
    default = SUBSETS[-1][1] if ga else SUBSETS[0][1]
    return _read_subset(reference / (subset_for(version) if version else default))


def _go_name(name: str) -> str:
    return "ID" if name == "id" else name[:1].upper() + name[1:]


def response_definition(swagger: dict[str, Any], path: str, method: str, status: int) -> str:
    """The definition name of a documented response, e.g. `codersdk.Task`."""
    response = swagger["paths"][path][method.lower()]["responses"][str(status)]
    return str(response["schema"]["$ref"]).rsplit("/", 1)[-1]


def request_definition(swagger: dict[str, Any], path: str, method: str) -> str:
    """The definition name of a documented request body, e.g. `codersdk.CreateTaskRequest`."""
    for parameter in swagger["paths"][path][method.lower()].get("parameters", []):
        if parameter.get("in") == "body":
            return str(parameter["schema"]["$ref"]).rsplit("/", 1)[-1]
    raise KeyError(f"{method} {path} documents no request body")


def _convert(node: Any, *, nullable: frozenset[str] = frozenset()) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    refs = [part.get("$ref") for part in node.get("allOf", []) if isinstance(part, dict)]
    if _NULL_UUID in refs:
        return {"type": ["string", "null"], "format": "uuid"}
    dropped = {"example", "x-enum-varnames", "description"}
    if any(refs):
        dropped.add("enum")  # the referenced enum type is authoritative
    converted = {key: _convert(value) for key, value in node.items() if key not in dropped}
    if "properties" in node:
        converted["properties"] = {}
        for name, value in node["properties"].items():
            schema = _convert(value)
            if name in nullable:
                schema = {"anyOf": [schema, {"type": "null"}]}
            converted["properties"][name] = schema
    return converted


#: The empty value of each JSON type Go's `omitempty` leaves out (formatted strings such as
#: times and UUIDs are Go structs or arrays, never empty, so they are not listed).
_EMPTY: dict[str, Any] = {"string": "", "array": [], "boolean": False, "integer": 0}


def _not_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """An `omitempty` property: when present, it is not its type's empty value."""
    kind = schema.get("type")
    if not isinstance(kind, str) or kind not in _EMPTY or "format" in schema:
        return schema
    return {"allOf": [schema, {"not": {"const": _EMPTY[kind]}}]}


def _definitions(
    swagger: dict[str, Any], *, failure_state: bool, strict: bool, required: bool
) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for name, body in copy.deepcopy(swagger["definitions"]).items():
        if name in GO_FIELD_NAMES:
            body["properties"] = {_go_name(k): v for k, v in body.get("properties", {}).items()}
            body.pop("required", None)
        schema = _convert(body, nullable=frozenset(NULLABLE.get(name, ())))
        if schema.get("type") == "object" and "properties" in schema:
            if strict and "additionalProperties" not in schema:
                schema["additionalProperties"] = False
            if required:
                optional = OMITTED_WHEN_EMPTY.get(name, set())
                schema["required"] = sorted(set(schema["properties"]) - optional)
                for prop in optional & set(schema["properties"]):
                    schema["properties"][prop] = _not_empty(schema["properties"][prop])
        converted[name] = schema
    if failure_state and "codersdk.TaskState" in converted:
        converted["codersdk.TaskState"]["enum"] = [
            *converted["codersdk.TaskState"]["enum"],
            "failure",
        ]
    return converted


def contract_schema(
    swagger: dict[str, Any],
    definition: str,
    *,
    failure_state: bool = False,
    strict: bool = True,
    required: bool = True,
) -> dict[str, Any]:
    """A JSON Schema (draft 7) for `definition` with the documented deviations applied."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": _definitions(
            swagger, failure_state=failure_state, strict=strict, required=required
        ),
        "$ref": f"#/definitions/{definition}",
    }


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"not RFC 3339: {value!r}")
    datetime.fromisoformat(value.replace("Z", "+00:00")[:19])
    return True


def contract_validator(
    swagger: dict[str, Any], definition: str, **options: bool
) -> jsonschema.Draft7Validator:
    """A validator that also checks the `uuid` and `date-time` formats."""
    schema = contract_schema(swagger, definition, **options)
    return jsonschema.Draft7Validator(schema, format_checker=_FORMATS)


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors inside an `anyOf` (nullable properties), without the `null` alternative."""
    if not error.context:
        return [error]
    found: list[jsonschema.ValidationError] = []
    for sub in error.context:
        if not (sub.validator == "type" and sub.validator_value == "null"):
            found += _leaves(sub)
    return found or [error]


def contract_errors(validator: jsonschema.Draft7Validator, instance: Any) -> list[str]:
    """Every violation as `path: message`, for readable assertion failures."""
    return [
        f"{'/'.join(str(p) for p in leaf.absolute_path) or '<root>'}: {leaf.message}"
        for error in validator.iter_errors(instance)
        for leaf in _leaves(error)
    ]


# -- whole exchanges: what a server answered, and what a client read ----------------------


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "/?$")


def documented_operation(
    swagger: dict[str, Any], method: str, path: str
) -> tuple[str, dict[str, Any]] | None:
    """The swagger path template and operation a concrete request matches, if any."""
    for template, operations in swagger["paths"].items():
        if _template_regex(template).match(path) and method.lower() in operations:
            return template, operations[method.lower()]
    return None


def _documented(
    swagger: dict[str, Any], method: str, path: str
) -> tuple[str, dict[str, Any]] | None:
    found = documented_operation(swagger, method, path)
    if found is None and path.startswith("/api/experimental/tasks"):
        # GA servers answer the experimental task paths with the GA handlers (CONTRACT 0).
        found = documented_operation(swagger, method, path.replace("/experimental/", "/v2/", 1))
    return found


#: The Chats API's subset (CHATS-CONTRACT.md): routes the Tasks subsets do not document are judged
#: by it and its overlay (`tests/chats_contract.py`), per release.
CHATS_SUBSET = "chats-swagger-head.json"


def is_chats_route(reference: Path, method: str, path: str) -> bool:
    """Whether a request is one of the Chats side's (`/api/v2/chats` from v2.37 included)."""
    from chats_contract import chats_operation  # it builds on this module

    return chats_operation(reference, method, path) is not None


#: CONTRACT 1.5: every error is `{message, detail?, validations?}`.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "additionalProperties": False,
    "properties": {
        "message": {"type": "string"},
        "detail": {"type": "string"},
        "validations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "additionalProperties": False,
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}

#: CONTRACT 9.1: the token may come as a query parameter on any route.
AUTH_QUERY = {"coder_session_token", "access_token"}
#: Query parameters CONTRACT.md documents where swagger lists none (1.6: the AI template list).
CONTRACT_QUERY = {"/api/v2/templates": {"q"}}

_VALIDATORS: dict[tuple[int, str, bool, bool], jsonschema.Draft7Validator] = {}


def _node_validator(
    swagger: dict[str, Any], node: dict[str, Any], *, failure_state: bool, request: bool
) -> jsonschema.Draft7Validator:
    key = (id(swagger), json.dumps(node, sort_keys=True), failure_state, request)
    if key not in _VALIDATORS:
        schema = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": _definitions(
                swagger, failure_state=failure_state, strict=True, required=not request
            ),
            **_convert(node),
        }
        _VALIDATORS[key] = jsonschema.Draft7Validator(schema, format_checker=_FORMATS)
    return _VALIDATORS[key]


def exchange_errors(
    reference: Path,
    version: str,
    *,
    method: str,
    path: str,
    query: str,
    request_body: bytes,
    status: int,
    payload: Any,
) -> list[str]:
    """What is wrong with one answered request, judged by the subset of `version`.

    A success must be a documented operation and status, with only documented query
    parameters, a request body that validates (strict) and a response body that validates
    strictly with every non-`omitempty` property present. An error must be CONTRACT 1.5's
    shape (405 has no body, as chi answers).
    """
    swagger = load_swagger(reference, version=version)
    where = f"{method} {path} -> {status} on v{version.lstrip('v')} ({subset_for(version)})"
    if _documented(swagger, method, path) is None and is_chats_route(reference, method, path):
        from chats_contract import chats_exchange_errors

        return chats_exchange_errors(
            reference,
            version,
            method=method,
            path=path,
            query=query,
            request_body=request_body,
            status=status,
            payload=payload,
        )
    if status >= 300:
        return error_body_errors(where, status, payload)
    found = _documented(swagger, method, path)
    if found is None:
        return [f"{where}: not a documented operation"]

    def validator(node: dict[str, Any], request: bool) -> jsonschema.Draft7Validator:
        failure = not request and reports_failure_state(version)
        return _node_validator(swagger, node, failure_state=failure, request=request)

    template, operation = found
    return operation_errors(
        where,
        template,
        operation,
        validator,
        query=query,
        request_body=request_body,
        status=status,
        payload=payload,
        extra_query=CONTRACT_QUERY.get(template, set()),
    )


def error_body_errors(where: str, status: int, payload: Any) -> list[str]:
    """An error answer must be CONTRACT 1.5's shape (405 has no body, as chi answers)."""
    if status == 405 and payload is None:
        return []
    validator = jsonschema.Draft7Validator(ERROR_SCHEMA)
    return [f"{where}: error body {e}" for e in contract_errors(validator, payload)]


def operation_errors(
    where: str,
    template: str,
    operation: dict[str, Any],
    validator: Callable[[dict[str, Any], bool], jsonschema.Draft7Validator],
    *,
    query: str,
    request_body: bytes,
    status: int,
    payload: Any,
    extra_query: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """A success answered by a documented `operation`: only its query parameters, its request
    body and its response; `validator(node, request)` builds the schema of a node."""
    errors: list[str] = []
    parameters = operation.get("parameters", [])
    allowed = {p["name"] for p in parameters if p["in"] == "query"} | AUTH_QUERY | extra_query
    extra = {k for k, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)} - allowed
    if extra:
        errors.append(f"{where}: undocumented query parameters {sorted(extra)}")
    body_param = [p for p in parameters if p["in"] == "body"]
    if request_body.strip() and body_param:
        try:
            sent = json.loads(request_body)
        except ValueError:
            sent = request_body.decode(errors="replace")
        checker = validator(body_param[0]["schema"], True)
        errors += [f"{where}: request {e}" for e in contract_errors(checker, sent)]
    response = operation["responses"].get(str(status))
    if response is None:
        return [*errors, f"{where}: status not documented for {template}"]
    schema = response.get("schema")
    if schema is None:
        if payload is not None:
            errors.append(f"{where}: a body where {template} documents none")
        return errors
    checker = validator(schema, False)
    return errors + [f"{where}: {e}" for e in contract_errors(checker, payload)]


def _resolve(swagger: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = ""
    while True:
        ref = node.get("$ref") or next(
            (p["$ref"] for p in node.get("allOf", []) if "$ref" in p), None
        )
        if ref is None:
            return name, node
        name = str(ref).rsplit("/", 1)[-1]
        node = swagger["definitions"][name]


def undeclared_read(reference: Path, read: dict[str, Any]) -> str | None:
    """Why a key the client read (a `TASKS_RECORD_READS` line) is not in the contract."""
    version = str(read["version"])
    swagger = load_swagger(reference, version=version)
    method, path, status = read["method"], read["path"], read["status"]
    where = f"{method} {path} ({status}) on {version} ({subset_for(version)})"
    found = _documented(swagger, method, path)
    if found is None and is_chats_route(reference, method, path):
        from chats_contract import chats_undeclared_read

        return chats_undeclared_read(reference, read)
    if found is None:
        return f"{where}: the client reads a route the contract does not document"
    template, operation = found
    response = operation["responses"].get(str(status), {})
    node: dict[str, Any] = response.get("schema", {})

    def fields(name: str, node: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = node.get("properties", {})
        if name in GO_FIELD_NAMES:
            return {_go_name(k): v for k, v in properties.items()}
        return properties

    return walk_read(
        read, template, _resolve(swagger, node), lambda n: _resolve(swagger, n), fields
    )


Step = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


def walk_read(
    read: dict[str, Any],
    template: str,
    start: tuple[str, dict[str, Any]],
    step: Step,
    fields: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda _, n: n.get("properties", {}),
) -> str | None:
    """Follows a read key (`["tasks", "[]", "id"]`) from the response's schema `start` (its
    definition name and node); why the contract does not declare it, else None. `step`
    resolves a schema node to (definition name, node)."""
    method, version = read["method"], str(read["version"])
    name, node = start
    walked: list[str] = []
    for key in read["key"]:
        walked.append(key)
        shown = ".".join(walked).replace(".[]", "[]")
        if key == "[]":
            if node.get("type") != "array":
                return f"{template} on {version}: `{shown}`: not an array in the contract"
            name, node = step(node.get("items", {}))
            continue
        properties = fields(name, node)
        if key in properties:
            name, node = step(properties[key])
        elif isinstance(node.get("additionalProperties"), dict):
            name, node = step(node["additionalProperties"])
        else:
            owner = name or "the response"
            return (
                f"{method} {template} on {version}: the client reads `{shown}`, "
                f"which {owner} does not declare"
            )
    return None
