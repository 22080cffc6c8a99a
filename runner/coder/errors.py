"""Coder's error responses mapped onto the one exception hierarchy in `runner.errors`.

Coder answers every failed API call with `{"message", "detail"?, "validations"?}` (CONTRACT 1.5).
One function turns a status plus such a body into the matching `ApiError` subclass.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from runner.errors import (
    AgentBusyError,
    ApiError,
    AuthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from runner.secrets import redact

#: The send error for a busy agent: 502 before v2.32, 409 from v2.32 (CONTRACT 3.1).
BUSY_MESSAGE = "Task app is not ready to accept input."
#: The 404 of a path the server does not serve at all (not the 404 of an unknown task).
ROUTE_NOT_FOUND = "Route not found."
#: The 404 of a resource that does not exist or that the caller may not see.
RESOURCE_NOT_FOUND = "Resource not found or you do not have access to this resource"
#: The create's 400 for a template version without a `coder_ai_task` resource (CONTRACT 1.3
#: step 3). Only the create can tell this of a pinned non-active version (CONTRACT 1.6).
NOT_AN_AI_TEMPLATE = 'Template does not have a valid "coder_ai_task" resource.'
#: The chat send error when 20 messages already wait (CHATS-CONTRACT 1.4).
QUEUE_FULL_MESSAGE = "Message queue is full."
#: The archive error for a chat that is not idle, from v2.35 (CHATS-CONTRACT 1.9).
ARCHIVE_ACTIVE_MESSAGE = (
    "Cannot archive an active chat. Interrupt or wait for the chat to finish first."
)
#: What Coder's Go client appends to a 401.
AUTH_HINT = "Try logging in using 'coder login'."

_MAX_TEXT = 200


def decode_error_body(
    body: bytes, content_type: str, status: int
) -> tuple[str, str, list[tuple[str, str]]]:
    """`(message, detail, validations)` from an error body; readable even when it is not JSON."""
    data: Any = None
    if body.strip():
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        message = _one_line(data["message"])
        detail = data.get("detail")
        validations = data.get("validations")
        pairs: list[tuple[str, str]] = []
        if isinstance(validations, list):
            for item in validations:
                if isinstance(item, dict):
                    pairs.append(
                        (
                            _one_line(str(item.get("field", ""))),
                            _one_line(str(item.get("detail", ""))),
                        )
                    )
        return message, _one_line(detail) if isinstance(detail, str) else "", pairs
    return _non_json_message(body, content_type, status), "", []


def error_from_response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    method: str = "",
    path: str = "",
) -> ApiError:
    """The ApiError subclass for a failed response, with Coder's message, detail, validations."""
    message, detail, validations = decode_error_body(body, content_type, status)
    kwargs: dict[str, Any] = {
        "detail": detail,
        "validations": validations,
        "method": method,
        "path": path,
    }
    if message == BUSY_MESSAGE:
        return AgentBusyError(status, message, **kwargs)
    if status == 401:
        hinted = _with_hint(message, AUTH_HINT)
        error = AuthError(status, hinted, **kwargs)
        error.api_message = message
        return error
    cls: type[ApiError] = {
        403: ForbiddenError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitedError,
    }.get(status, ServerError if status >= 500 else ApiError)
    return cls(status, message, **kwargs)


def _with_hint(message: str, hint: str) -> str:
    """Coder's Go client joins its helper with `: `; after a full stop a space reads better."""
    if not message:
        return hint
    return f"{message} {hint}" if message.endswith((".", "!", "?")) else f"{message}: {hint}"


def is_route_not_found(error: ApiError) -> bool:
    """A 404 for a path the server does not route (Tasks off or removed), not a missing task."""
    return error.status == 404 and error.api_message == ROUTE_NOT_FOUND


def is_not_an_ai_template(error: BaseException | None) -> bool:
    """The create's refusal of a template version that cannot run tasks (never worth a retry)."""
    return (
        isinstance(error, ApiError)
        and error.status == 400
        and error.api_message == NOT_AN_AI_TEMPLATE
    )


def is_agents_experiment_gate(error: ApiError) -> bool:
    """v2.32/v2.33's 403 for chat routes while the `agents` experiment is off."""
    return error.status == 403 and "'agents' experiment" in error.api_message


def is_queue_full(error: ApiError) -> bool:
    """A chat's message queue is full (429, also after the transport waited it out)."""
    return error.status == 429 and error.api_message == QUEUE_FULL_MESSAGE


def is_archive_of_active_chat(error: ApiError) -> bool:
    """v2.35+: archive refused because the chat is still working or interrupting."""
    return error.status == 409 and error.api_message == ARCHIVE_ACTIVE_MESSAGE


def _non_json_message(body: bytes, content_type: str, status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    text = _one_line(body.decode("utf-8", errors="replace"))
    if not text:
        return phrase
    kind = content_type.split(";")[0].strip() or "no content type"
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "…"
    return f"{phrase} (unexpected {kind} response: {text})"


def _one_line(text: str) -> str:
    """Error-body text on one line, secrets masked: a careless server may echo the token, and
    this text reaches event lines, tables and reports, not only the CLI's error line."""
    return redact(" ".join(text.split()))
