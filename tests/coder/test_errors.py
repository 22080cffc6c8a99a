"""Coder's error bodies mapped onto the exception hierarchy."""

from __future__ import annotations

import json

import pytest

from runner.coder.errors import error_from_response, is_route_not_found
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

JSON = "application/json; charset=utf-8"


def body(message: str, **extra: object) -> bytes:
    return json.dumps({"message": message, **extra}).encode()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ApiError),
        (401, AuthError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (428, ApiError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[ApiError]) -> None:
    error = error_from_response(status, body("Something."), JSON, method="GET", path="/p")
    assert type(error) is cls
    assert error.status == status


def test_message_detail_and_validations_are_all_carried() -> None:
    error = error_from_response(
        409,
        body(
            'Workspace "auth" already exists.',
            detail="a detail",
            validations=[{"field": "name", "detail": "This value is already in use."}],
        ),
        JSON,
        method="POST",
        path="/api/v2/tasks/me",
    )
    assert isinstance(error, ConflictError)
    assert error.api_message == 'Workspace "auth" already exists.'
    assert error.detail == "a detail"
    assert error.validations == (("name", "This value is already in use."),)
    assert error.message == ('Workspace "auth" already exists. [HTTP 409] (POST /api/v2/tasks/me)')
    assert error.details == ("Error: a detail", "name: This value is already in use.")


def test_401_carries_coder_login_hint() -> None:
    error = error_from_response(
        401,
        body(
            "You are signed out or your session has expired. Please sign in again to continue.",
            detail="API key secret is invalid.",
        ),
        JSON,
    )
    assert isinstance(error, AuthError)
    # Coder's Go client appends its helper after `: ` (CONTRACT 1.5); after the message's own
    # full stop that would read `continue.: Try`, so the hint follows as a second sentence.
    assert error.message == (
        "You are signed out or your session has expired. Please sign in again to continue. "
        "Try logging in using 'coder login'. [HTTP 401]"
    )
    assert ".:" not in error.message
    assert error.api_message.startswith("You are signed out")


def test_401_hint_after_a_message_without_a_full_stop_keeps_coders_colon() -> None:
    error = error_from_response(401, body("Unauthorized"), JSON)
    assert error.message == "Unauthorized: Try logging in using 'coder login'. [HTTP 401]"


@pytest.mark.parametrize("status", [502, 409])
def test_busy_agent_is_told_apart_by_message(status: int) -> None:
    busy = error_from_response(
        status, body("Task app is not ready to accept input.", detail="Status: running"), JSON
    )
    assert isinstance(busy, AgentBusyError)
    assert busy.status == status


def test_other_502_and_409_are_not_busy() -> None:
    other_502 = error_from_response(502, body("Failed to reach task app endpoint."), JSON)
    other_409 = error_from_response(409, body("Task is paused."), JSON)
    assert type(other_502) is ServerError
    assert type(other_409) is ConflictError


def test_route_not_found_is_not_a_missing_task() -> None:
    route = error_from_response(404, body("Route not found."), JSON)
    missing = error_from_response(
        404, body("Resource not found or you do not have access to this resource"), JSON
    )
    assert is_route_not_found(route)
    assert not is_route_not_found(missing)


@pytest.mark.parametrize(
    ("raw", "content_type", "needle"),
    [
        (b"<html><body>Bad Gateway</body></html>", "text/html", "text/html"),
        (b"", "", "Method Not Allowed"),
        (b"upstream\nconnect error", "text/plain", "upstream connect error"),
        (b'{"error": "x"}', JSON, "application/json"),
    ],
)
def test_non_json_bodies_get_a_readable_one_line_message(
    raw: bytes, content_type: str, needle: str
) -> None:
    status = 405 if not raw else 502
    error = error_from_response(status, raw, content_type)
    assert needle in error.message
    assert "\n" not in error.message
