"""`chats-swagger-head.json` as JSON Schema for the Chats contract tests, per server generation.

Builds on `tests.contract_schema` (strict: no property swagger does not list) and adds what the
swagger cannot say, each from Coder's `codersdk/chats.go`:

- which properties are always present (no `omitempty`), at the contract's HEAD commit for v2.34+
  and at tag v2.33.0-rc.1 for v2.32 and v2.33 (no later tag exists; CHATS-CONTRACT section 0);
- v2.32 and v2.33 chats carry only the fields of that tag, and `last_error` is a string or null
  (`*string` without `omitempty`); from v2.34 it is a `ChatError` object;
- `last_turn_summary` is a `*string` without `omitempty`: a string or null;
- `args` and `result` of a message part are `json.RawMessage`: raw JSON on the wire, where
  swagger says an array of integers;
- the additions of later releases to the HEAD snapshot (CHATS-CONTRACT 1.2, 7.2, 7.4, 7.5) and
  the routes the subset leaves out, as an explicit overlay (`tests/chats_contract.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from contract_schema import _FORMATS, contract_schema

SWAGGER_NAME = "chats-swagger-head.json"

#: Properties present on every object (`omitempty` absent), HEAD (v2.34+).
ALWAYS_PRESENT: dict[str, set[str]] = {
    "codersdk.Chat": {
        "id",
        "organization_id",
        "owner_id",
        "last_model_config_id",
        "title",
        "status",
        "last_turn_summary",
        "created_at",
        "updated_at",
        "archived",
        "shared",
        "pin_order",
        "mcp_server_ids",
        "labels",
        "has_unread",
        "client_type",
        "children",
    },
    "codersdk.ChatError": {"message", "retryable"},
    "codersdk.ChatDiffStatus": {
        "chat_id",
        "pull_request_title",
        "pull_request_draft",
        "changes_requested",
        "additions",
        "deletions",
        "changed_files",
    },
    "codersdk.ChatMessage": {"id", "chat_id", "created_at", "role"},
    "codersdk.ChatMessagePart": {
        "type",
        "text",
        "url",
        "media_type",
        "file_name",
        "start_line",
        "end_line",
        "content",
        "context_file_path",
        "skill_name",
    },
    "codersdk.ChatMessagesResponse": {"messages", "queued_messages", "has_more"},
    "codersdk.ChatQueuedMessage": {"id", "chat_id", "content", "created_at"},
    "codersdk.ChatPromptsResponse": {"prompts"},
    "codersdk.ChatPrompt": {"id", "text"},
    "codersdk.CreateChatMessageResponse": {"queued"},
    "codersdk.Response": {"message"},
}

#: `codersdk.Workspace` and `codersdk.WorkspaceBuild` (codersdk/workspaces.go and
#: workspacebuilds.go at HEAD): the `omitempty` properties, and pointers sent as null.
WORKSPACE_OMITTED = {"autostart_schedule", "ttl_ms", "task_id", "shared_with"}
WORKSPACE_NULLABLE = {"latest_app_status", "deleting_at", "dormant_at", "next_start_at"}
BUILD_OMITTED = {
    "workspace_owner_avatar_url",
    "deadline",
    "max_deadline",
    "matched_provisioners",
    "has_ai_task",
    "has_external_agent",
}
BUILD_NULLABLE = {"template_version_preset_id"}

#: `codersdk.Chat` at v2.33.0-rc.1 (v2.32): every field, and the ones without `omitempty`.
CHAT_V232_PRESENT = {
    "id",
    "owner_id",
    "last_model_config_id",
    "title",
    "status",
    "last_error",
    "created_at",
    "updated_at",
    "archived",
    "pin_order",
    "mcp_server_ids",
    "labels",
    "has_unread",
}
CHAT_V232_FIELDS = CHAT_V232_PRESENT | {
    "workspace_id",
    "build_id",
    "agent_id",
    "parent_chat_id",
    "root_chat_id",
    "diff_status",
    "files",
    "last_injected_context",
    "warnings",
}
#: v2.33: `codersdk.Chat` at fc2493780 (2026-04-20), the newest commit v2.33 is known to hold
#: (CHATS-CONTRACT 7.1 and section 4): organization scoping (22062ec5), `plan_mode`,
#: `client_type` and `children` on top of v2.32's; `last_error` still a string.
CHAT_V233_PRESENT = CHAT_V232_PRESENT | {"organization_id", "client_type", "children"}
CHAT_V233_FIELDS = CHAT_V232_FIELDS | CHAT_V233_PRESENT | {"plan_mode"}


_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_TEXT: dict[str, Any] = {"type": "string"}
_LIST: dict[str, Any] = {"type": "array"}
_MESSAGES: dict[str, Any] = {
    "type": "array",
    "items": {"$ref": "#/definitions/codersdk.ChatMessage"},
}

#: What later releases add to HEAD's (2026-06-19) definitions: optional properties, by the first
#: release that sends or accepts them. The overlay of the GA additions the brief's swagger lacks.
RELEASE_ADDITIONS: dict[str, tuple[tuple[tuple[int, int], str, dict[str, Any]], ...]] = {
    "codersdk.Chat": (
        ((2, 36), "last_reasoning_effort", _TEXT),  # CHATS-CONTRACT 7.2, PR #26974
        ((2, 37), "diff_statuses", _LIST),  # 1.2, the v2.37+ reference pages
        ((2, 37), "inline_mcp_servers", _LIST),  # 1.2
        ((2, 37), "project_id", _UUID),  # 1.2
        ((2, 37), "queued_for_capacity", {"type": "boolean"}),  # 7.4, commit 119f2b1dd
    ),
    "codersdk.CreateChatRequest": (
        ((2, 36), "reasoning_effort", _TEXT),  # 7.2, PR #26974
        ((2, 37), "project_id", _UUID),  # 1.3 and 7.5
        ((2, 37), "inline_mcp_servers", _LIST),  # 1.3 and 7.5
        ((2, 38), "owner_id", _UUID),  # 7.5, PR #29581 (merged): v2.38
        # 7.5: PR #29486, "v2.38 or v2.39"; the v2.39 reference is the first to list it.
        ((2, 39), "title", {"type": "string", "minLength": 1, "maxLength": 200}),
    ),
    "codersdk.CreateChatMessageRequest": (
        ((2, 36), "reasoning_effort", _TEXT),  # 7.2
        ((2, 37), "inline_mcp_servers", _LIST),  # 1.4
    ),
    "codersdk.CreateChatMessageResponse": (((2, 36), "messages", _MESSAGES),),  # 7.2, #27429
    "codersdk.ChatMessagesResponse": (((2, 37), "turn_start_id", {"type": "integer"}),),  # 1.7
    "codersdk.UpdateChatRequest": (
        ((2, 37), "read", {"type": "boolean"}),  # 1.2 and 1.9
        ((2, 37), "project_id", _UUID),
    ),
}


def _add_release_fields(defs: dict[str, Any], version: tuple[int, int]) -> None:
    for name, additions in RELEASE_ADDITIONS.items():
        for first, field, schema in additions:
            if version >= first:
                defs[name]["properties"][field] = schema


def load_chats_swagger(reference: Path) -> dict[str, Any]:
    """The chats swagger subset from the reference folder."""
    data: dict[str, Any] = json.loads((reference / SWAGGER_NAME).read_text())
    return data


def chats_schema(
    swagger: dict[str, Any], definition: str, *, version: tuple[int, int], response: bool = True
) -> dict[str, Any]:
    """A strict JSON Schema for `definition` as the given `(major, minor)` release sends it."""
    schema = contract_schema(swagger, definition, strict=True, required=False)
    for_release(schema["definitions"], version=version, response=response)
    return schema


def for_release(defs: dict[str, Any], *, version: tuple[int, int], response: bool) -> None:
    """`defs` (converted from HEAD's swagger) changed to what `version` sends or accepts."""
    raw_json: dict[str, Any] = {}  # json.RawMessage: any JSON value
    part = defs["codersdk.ChatMessagePart"]["properties"]
    part["args"] = raw_json
    part["result"] = raw_json
    if response:
        for name, present in ALWAYS_PRESENT.items():
            defs[name]["required"] = sorted(present)
    for name, omitted, nullable in (
        ("codersdk.Workspace", WORKSPACE_OMITTED, WORKSPACE_NULLABLE),
        ("codersdk.WorkspaceBuild", BUILD_OMITTED, BUILD_NULLABLE),
    ):
        properties = defs[name]["properties"]
        for key in nullable:
            properties[key] = {"anyOf": [properties[key], {"type": "null"}]}
        if response:
            defs[name]["required"] = sorted(set(properties) - omitted)
    chat = defs["codersdk.Chat"]
    chat["properties"]["last_turn_summary"] = {"type": ["string", "null"]}
    if version < (2, 34):
        fields, present = (
            (CHAT_V232_FIELDS, CHAT_V232_PRESENT)
            if version < (2, 33)
            else (CHAT_V233_FIELDS, CHAT_V233_PRESENT)
        )
        chat["properties"] = {k: v for k, v in chat["properties"].items() if k in fields}
        chat["properties"]["last_error"] = {"type": ["string", "null"]}
        if response:
            chat["required"] = sorted(present)
    _add_release_fields(defs, version)


def chats_validator(
    swagger: dict[str, Any], definition: str, *, version: tuple[int, int], response: bool = True
) -> jsonschema.Draft7Validator:
    """A validator with the `uuid` and `date-time` format checks of `tests.contract_schema`."""
    schema = chats_schema(swagger, definition, version=version, response=response)
    return jsonschema.Draft7Validator(schema, format_checker=_FORMATS)
