"""The Chats side of the contract net: every exchange on a chat route, or on a route the Chats
backend uses beside the Tasks subsets (workspaces, organizations), judged strictly by
`chats-swagger-head.json` plus the overlay below, per release; and every key the client reads
there checked against the same schema (field provenance).

The overlay, each part cited:

- `/api/v2/chats…` answers the same handlers and payloads as `/api/experimental/chats…`
  (CHATS-CONTRACT 1.1 and section 4): from v2.37; the experimental mount is gone from v2.38 (7.1).
- routes the subset leaves out: the workspace lookup by owner and name (`workspaceByOwnerAndName`,
  `coderd/coderd.go` line 1680 at a12b0518, answering `codersdk.Workspace`), the chat cost (7.4),
  the model configs before v2.37 and the organization's models from v2.37 (7.3), withdrawing a
  queued message (1.10; 204 with no body, `deleteChatQueuedMessage` in `coderd/chats.go` at
  erickirt/coder 12083441), and the user's workspaces (`GET /api/v2/workspaces?q=owner:…`,
  `codersdk.WorkspacesResponse` `{workspaces, count}`, `coderd/workspaces.go` `workspaces`);
- routes by release: `…/prompts` from v2.34 (7.5);
- workspace create and builds answer 201 where swagger says 200 (`httpapi.Write(…,
  http.StatusCreated, …)` in `coderd/workspaces.go` line 417 and `coderd/workspacebuilds.go`
  line 361 at a12b0518);
- the list's `limit`, `offset` and `after_id` query parameters (1.5);
- the fields later releases add to HEAD's definitions (`chats_schema.RELEASE_ADDITIONS`).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
from chats_schema import SWAGGER_NAME, for_release
from contract_schema import (
    _FORMATS,
    _convert,
    _definitions,
    error_body_errors,
    operation_errors,
    walk_read,
)

EXPERIMENTAL = "/api/experimental/chats"
V2 = "/api/v2/chats"

_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_INT: dict[str, Any] = {"type": "integer"}
_STR: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


def _get(schema: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"parameters": [], "responses": {"200": {"schema": schema}}}}


_MODEL = {"model": _STR, "display_name": _STR, "enabled": _BOOL, "is_default": _BOOL}
#: Definitions the subset lacks, every listed field always sent (CHATS-CONTRACT 7.3, 7.4).
OVERLAY_DEFINITIONS: dict[str, dict[str, Any]] = {
    # 7.4: `GET {P}/{chat}/cost` (v2.36, PR #26649).
    "overlay.ChatCostSummary": _object(
        {
            "chat_id": _UUID,
            "total_cost_micros": _INT,
            "request_count": _INT,
            "unpriced_request_count": _INT,
        }
    ),
    # 1.11 and 7.3: `ChatModelConfig` before v2.36 (a `provider` string) ...
    "overlay.ChatModelConfig": _object(
        {"id": _UUID, "provider": _STR, **_MODEL, "context_limit": _INT}
    ),
    # ... and from v2.36 (`ai_provider_id`, PR #26877, "v2.35/v2.36": judged from v2.36).
    "overlay.ChatModelConfigV236": _object(
        {"id": _UUID, "ai_provider_id": _UUID, **_MODEL, "context_limit": _INT}
    ),
    # 7.3: `GET /api/v2/organizations/{organization}/chats/models` (v2.37+).
    "overlay.OrganizationChatModels": _object(
        {
            "models": {"type": "array", "items": _ref("overlay.OrganizationChatModel")},
            "providers": {"type": "array", "items": _ref("overlay.ChatProvider")},
            "unsupported_providers": {"type": "array"},
        }
    ),
    "overlay.OrganizationChatModel": _object(
        {
            "id": _UUID,
            "organization_id": _UUID,
            "ai_provider_id": _UUID,
            **_MODEL,
            "context_limit": _INT,
        }
    ),
    "overlay.ChatProvider": _object({"id": _UUID, "provider": _STR, "display_name": _STR}),
    "overlay.WorkspacesResponse": _object(
        {"workspaces": {"type": "array", "items": _ref("codersdk.Workspace")}, "count": _INT}
    ),
}

#: Routes the subset leaves out, in swagger's form.
OVERLAY_PATHS: dict[str, dict[str, Any]] = {
    "/api/v2/users/{user}/workspace/{workspacename}": _get(_ref("codersdk.Workspace")),
    f"{EXPERIMENTAL}/{{chat}}/cost": _get(_ref("overlay.ChatCostSummary")),
    f"{EXPERIMENTAL}/model-configs": _get(
        {"type": "array", "items": _ref("overlay.ChatModelConfig")}
    ),
    "/api/v2/organizations/{organization}/chats/models": _get(
        _ref("overlay.OrganizationChatModels")
    ),
    f"{EXPERIMENTAL}/{{chat}}/queue/{{queued}}": {
        "delete": {"parameters": [], "responses": {"204": {}}}
    },
    "/api/v2/workspaces": _get(_ref("overlay.WorkspacesResponse")),
}

#: (method, template) -> (first release, first release without it), for routes not on every one.
RELEASES: dict[tuple[str, str], tuple[tuple[int, int], tuple[int, int]]] = {
    ("GET", f"{EXPERIMENTAL}/{{chat}}/prompts"): ((2, 34), (99, 0)),  # 7.5, cb37047dc
    ("GET", f"{EXPERIMENTAL}/{{chat}}/cost"): ((2, 36), (99, 0)),  # 7.4
    ("GET", f"{EXPERIMENTAL}/model-configs"): ((2, 32), (2, 37)),  # 7.3
    ("GET", "/api/v2/organizations/{organization}/chats/models"): ((2, 37), (99, 0)),  # 7.3
}

#: Query parameters the contract documents where the subset lists none (1.5).
OVERLAY_QUERY = {EXPERIMENTAL: {"limit", "offset", "after_id"}, "/api/v2/workspaces": {"q"}}
#: Answers Coder gives with another status than swagger's (see the module docstring).
CREATED = {
    ("POST", "/api/v2/users/{user}/workspaces"),
    ("POST", "/api/v2/workspaces/{workspace}/builds"),
}


@functools.cache
def overlaid_swagger(reference: Path) -> dict[str, Any]:
    """`chats-swagger-head.json` with the overlay's paths and definitions added."""
    swagger = copy.deepcopy(json.loads((reference / SWAGGER_NAME).read_text()))
    swagger["paths"].update(copy.deepcopy(OVERLAY_PATHS))
    swagger["definitions"].update(copy.deepcopy(OVERLAY_DEFINITIONS))
    for method, template in CREATED:
        responses = swagger["paths"][template][method.lower()]["responses"]
        responses["201"] = responses.pop("200")
    for template, extra in OVERLAY_QUERY.items():
        operation = swagger["paths"][template]["get"]
        operation["parameters"] += [{"in": "query", "name": n, "type": "string"} for n in extra]
    return swagger


def release(version: str) -> tuple[int, int]:
    """`(major, minor)` of `v2.33.0+sim`, `2.38.1`."""
    core = version.lstrip("v").split("+", 1)[0].split("-", 1)[0]
    major, minor = core.split(".")[:2]
    return int(major), int(minor)


def _regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "/?$")


def chats_operation(reference: Path, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The overlaid template and operation of a request (either chat prefix), if any.

    Literal segments win over `{chat}` (`model-configs` is not a chat id), as chi routes them.
    """
    swagger = overlaid_swagger(reference)
    if path.startswith(V2):
        path = EXPERIMENTAL + path[len(V2) :]
    templates = sorted(swagger["paths"], key=lambda t: t.count("{"))
    for template in templates:
        operations = swagger["paths"][template]
        if method.lower() in operations and _regex(template).match(path):
            return template, operations[method.lower()]
    return None


def _served(version: tuple[int, int], method: str, path: str, template: str) -> str | None:
    """Why a release cannot have answered this route with a success, if it cannot."""
    if path.startswith(V2) and version < (2, 37):
        return "/api/v2/chats is served from v2.37 (CHATS-CONTRACT section 4)"
    if path.startswith(EXPERIMENTAL) and version >= (2, 38):
        return "the experimental chat mount is gone from v2.38 (CHATS-CONTRACT 7.1)"
    first, gone = RELEASES.get((method, template), ((0, 0), (99, 0)))
    if not first <= version < gone:
        return f"{template} is served from v{first[0]}.{first[1]} until v{gone[0]}.{gone[1]}"
    return None


@functools.cache
def _definitions_of(reference: Path, version: tuple[int, int], response: bool) -> dict[str, Any]:
    defs = _definitions(
        overlaid_swagger(reference), failure_state=False, strict=True, required=False
    )
    for_release(defs, version=version, response=response)
    if version >= (2, 36):
        defs["overlay.ChatModelConfig"] = defs["overlay.ChatModelConfigV236"]
    return defs


def _validator(
    reference: Path, version: tuple[int, int], node: dict[str, Any], *, response: bool
) -> jsonschema.Draft7Validator:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": _definitions_of(reference, version, response),
        **_convert(node),
    }
    return jsonschema.Draft7Validator(schema, format_checker=_FORMATS)


def chats_exchange_errors(
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
    """What is wrong with one answered request on a Chats-side route (see `exchange_errors`)."""
    where = f"{method} {path} -> {status} on v{version.lstrip('v')} ({SWAGGER_NAME}+overlay)"
    if status >= 300:
        return error_body_errors(where, status, payload)
    found = chats_operation(reference, method, path)
    if found is None:
        return [f"{where}: not a documented operation"]
    template, operation = found
    key = release(version)
    why = _served(key, method, path, template)
    if why:
        return [f"{where}: answered, but {why}"]
    return operation_errors(
        where,
        template,
        operation,
        lambda node, request: _validator(reference, key, node, response=not request),
        query=query,
        request_body=request_body,
        status=status,
        payload=payload,
    )


def _step(defs: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The definition a converted schema node stands for (through `$ref` and nullables)."""
    name = ""
    while True:
        if "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            node = defs[name]
            continue
        branches = [b for b in node.get("anyOf", node.get("allOf", [])) if b != {"type": "null"}]
        typed = [b for b in branches if "$ref" in b or "properties" in b or "items" in b]
        if typed:
            node = typed[0]
            continue
        return name, node


def chats_undeclared_read(reference: Path, read: dict[str, Any]) -> str | None:
    """Why a key the client read on a Chats-side route is not declared for its release."""
    version = str(read["version"])
    method, path, status = read["method"], read["path"], read["status"]
    found = chats_operation(reference, method, path)
    if found is None:
        return f"{method} {path} ({status}) on {version}: the client reads an undocumented route"
    template, operation = found
    documented = operation["responses"].get(str(status), {})
    defs = _definitions_of(reference, release(version), True)
    start = _step(defs, _convert(documented.get("schema", {})))
    return walk_read(read, template, start, lambda node: _step(defs, node))
