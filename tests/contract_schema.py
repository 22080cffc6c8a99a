"""Swagger 2.0 subsets of Coder's API as JSON Schema, for contract tests.

`contract_validator(swagger, "codersdk.Task", ...)` gives a jsonschema validator for one
definition. It allows only the deviations CONTRACT.md documents between swagger and the wire:

- `uuid.NullUUID` fields are a UUID string or null (swagger says `{uuid, valid}`);
- `current_state` and the agent fields may be null;
- before v2.32 `current_state.state` may be `failure` (`failure_state=True`);
- where a property has both an inline `enum` and a `$ref` to an enum type, the referenced type
  is authoritative: swagger's inline list for `WorkspaceBuild.reason` stops at `autostop`, while
  pause and resume builds carry `task_manual_pause` and `task_resume` (CONTRACT section 1).

`strict=True` forbids properties swagger does not list (catches fields of another API
generation, such as `display_name` on v2.28). `required=True` requires every property of the
response objects below except the ones Coder omits when empty. Reuse it for request bodies with
`request_definition(...)` and `strict=True, required=False`.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

#: Properties Go omits when empty (`omitempty`); every other listed property must be present.
OMITTED_WHEN_EMPTY: dict[str, set[str]] = {
    "codersdk.Task": {"owner_avatar_url", "workspace_status", "workspace_build_number"},
    "codersdk.TasksListResponse": set(),
    "codersdk.TaskLogsResponse": {"snapshot", "snapshot_at"},
    "codersdk.TaskLogEntry": set(),
    "codersdk.TaskStateEntry": set(),
    "codersdk.WorkspaceAgentHealth": {"reason"},
}
NULLABLE_FIELDS = {
    "current_state",
    "workspace_agent_health",
    "workspace_agent_lifecycle",
}
_NULL_UUID = "#/definitions/uuid.NullUUID"


def load_swagger(reference: Path, *, ga: bool) -> dict[str, Any]:
    """The v2.28 subset (`ga=False`) or the GA HEAD subset from the reference folder."""
    name = "tasks-swagger-ga-head.json" if ga else "tasks-swagger.json"
    data: dict[str, Any] = json.loads((reference / name).read_text())
    return data


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


def _convert(node: Any, *, nullable_here: bool = False) -> Any:
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
        converted["properties"] = {
            name: _convert(value, nullable_here=name in NULLABLE_FIELDS)
            for name, value in node["properties"].items()
        }
    if nullable_here:
        return {"anyOf": [converted, {"type": "null"}]}
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
    definitions = copy.deepcopy(swagger["definitions"])
    converted: dict[str, Any] = {}
    for name, body in definitions.items():
        schema = _convert(body)
        if schema.get("type") == "object" and "properties" in schema:
            if strict and "additionalProperties" not in schema:
                schema["additionalProperties"] = False
            if required and name in OMITTED_WHEN_EMPTY:
                optional = OMITTED_WHEN_EMPTY[name]
                schema["required"] = sorted(set(schema["properties"]) - optional)
        converted[name] = schema
    if failure_state and "codersdk.TaskState" in converted:
        converted["codersdk.TaskState"]["enum"] = [
            *converted["codersdk.TaskState"]["enum"],
            "failure",
        ]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": converted,
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


def contract_errors(validator: jsonschema.Draft7Validator, instance: Any) -> list[str]:
    """Every violation as `path: message`, for readable assertion failures."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]
