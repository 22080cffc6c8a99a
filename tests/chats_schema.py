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
- GA (v2.37+) create requests may add `title` and `owner_id` (CHATS-CONTRACT 1.3).
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

#: `codersdk.Chat` at v2.33.0-rc.1: every field, and the ones without `omitempty`.
CHAT_V233_PRESENT = {
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
CHAT_V233_FIELDS = CHAT_V233_PRESENT | {
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


def load_chats_swagger(reference: Path) -> dict[str, Any]:
    """The chats swagger subset from the reference folder."""
    data: dict[str, Any] = json.loads((reference / SWAGGER_NAME).read_text())
    return data


def chats_schema(
    swagger: dict[str, Any], definition: str, *, version: tuple[int, int], response: bool = True
) -> dict[str, Any]:
    """A strict JSON Schema for `definition` as the given `(major, minor)` release sends it."""
    schema = contract_schema(swagger, definition, strict=True, required=False)
    defs = schema["definitions"]
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
        chat["properties"] = {k: v for k, v in chat["properties"].items() if k in CHAT_V233_FIELDS}
        chat["properties"]["last_error"] = {"type": ["string", "null"]}
        if response:
            chat["required"] = sorted(CHAT_V233_PRESENT)
    if version >= (2, 37):
        create = defs["codersdk.CreateChatRequest"]["properties"]
        create["title"] = {"type": "string", "minLength": 1, "maxLength": 200}
        create["owner_id"] = {"type": "string", "format": "uuid"}
    return schema


def chats_validator(
    swagger: dict[str, Any], definition: str, *, version: tuple[int, int], response: bool = True
) -> jsonschema.Draft7Validator:
    """A validator with the `uuid` and `date-time` format checks of `tests.contract_schema`."""
    schema = chats_schema(swagger, definition, version=version, response=response)
    return jsonschema.Draft7Validator(schema, format_checker=_FORMATS)
