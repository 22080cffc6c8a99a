"""Retry policy: what is repeated, how long it waits, and what is never repeated blindly."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from runner.coder.transport import BACKOFF_CAP_SECONDS, retry_after_seconds
from runner.errors import (
    AgentBusyError,
    RateLimitedError,
    ServerError,
    TransportError,
    UncertainOutcomeError,
)

from .fakes import FakeCoder, json_response, make_task


def refused() -> httpx.ConnectError:
    """A refused connection as httpx raises it: the OS error is its cause (decisions use it)."""
    error = httpx.ConnectError("[Errno 111] Connection refused")
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


def unknown_host() -> httpx.ConnectError:
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return error


RATE_LIMITED = {"message": "You've been rate limited for sending more than 512 requests in 1m0s."}
BOOM = {"message": "Internal error fetching tasks."}


def fake_with_task() -> tuple[FakeCoder, dict[str, object]]:
    task = make_task("auth")
    return FakeCoder(tasks=[task]), task


def test_get_is_retried_on_5xx_with_growing_backoff() -> None:
    fake, _ = fake_with_task()
    fake.on("GET", "/api/v2/tasks", json_response(503, BOOM), json_response(500, BOOM))
    slept: list[float] = []
    tasks = fake.client(sleep=slept.append).list_tasks()
    assert [t.name for t in tasks] == ["auth"]
    assert len(fake.calls("GET", "/api/v2/tasks")) == 3
    assert slept == [0.4, 0.8]  # jitter pinned to its maximum


def test_jitter_keeps_waits_between_half_and_full_backoff() -> None:
    fake, _ = fake_with_task()
    fake.on("GET", "/api/v2/tasks", json_response(503, BOOM))
    slept: list[float] = []
    fake.client(sleep=slept.append, jitter=lambda: 0.0).list_tasks()
    assert slept == [0.2]


def test_get_retries_are_bounded() -> None:
    fake, _ = fake_with_task()
    fake.on("GET", "/api/v2/tasks", *[json_response(503, BOOM) for _ in range(10)])
    slept: list[float] = []
    with pytest.raises(ServerError, match="Internal error fetching tasks"):
        fake.client(sleep=slept.append, max_retries=3).list_tasks()
    assert len(fake.calls("GET", "/api/v2/tasks")) == 4
    assert len(slept) == 3
    assert all(s <= BACKOFF_CAP_SECONDS for s in slept)


def test_get_is_retried_after_a_broken_connection() -> None:
    fake, _ = fake_with_task()
    fake.on("GET", "/api/v2/tasks", httpx.ReadError("reset by peer"))
    assert [t.name for t in fake.client().list_tasks()] == ["auth"]


def test_connection_refused_becomes_a_transport_error_with_the_url() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", *[refused() for _ in range(5)])
    with pytest.raises(TransportError) as caught:
        _ = fake.client().server
    assert caught.value.message == "cannot reach https://coder.example.com: connection refused"
    assert not isinstance(caught.value, UncertainOutcomeError)
    # A deployment that never answered is most likely down: one retry, then a fast error.
    assert len(fake.calls()) == 2


def test_refused_connections_are_retried_fully_once_the_server_answered() -> None:
    fake, _ = fake_with_task()
    fake.on("GET", "/api/v2/tasks", refused(), refused(), refused())
    slept: list[float] = []
    assert [t.name for t in fake.client(sleep=slept.append).list_tasks()] == ["auth"]
    assert len(fake.calls("GET", "/api/v2/tasks")) == 4
    assert len(slept) == 3


def test_unknown_host_is_not_retried() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", unknown_host())
    with pytest.raises(TransportError, match="host name not found"):
        _ = fake.client().server
    assert len(fake.calls()) == 1


def test_post_is_not_repeated_after_a_lost_response() -> None:
    fake, task = fake_with_task()
    send = f"/api/v2/tasks/me/{task['id']}/send"
    fake.on("POST", send, httpx.ReadError("connection reset"))
    client = fake.client()
    with pytest.raises(UncertainOutcomeError) as caught:
        client.send_input(client.get_task(str(task["id"])), "hello")
    assert "may have done it" in caught.value.message
    assert len(fake.calls("POST", send)) == 1


def test_post_is_not_repeated_after_a_read_timeout() -> None:
    fake = FakeCoder()
    fake.on("POST", "/api/v2/tasks/me", httpx.ReadTimeout("timed out"))
    with pytest.raises(UncertainOutcomeError):
        fake.client().create_task(owner="me", template_version_id="v", prompt="p")
    assert len(fake.calls("POST", "/api/v2/tasks/me")) == 1


def test_post_is_retried_when_it_never_reached_the_server() -> None:
    fake = FakeCoder()
    created = make_task("auth")
    fake.on(
        "POST",
        "/api/v2/tasks/me",
        refused(),
        json_response(201, created),
    )
    task = fake.client().create_task(owner="me", template_version_id="v", prompt="p")
    assert task.id == created["id"]
    assert len(fake.calls("POST", "/api/v2/tasks/me")) == 2


def test_post_5xx_is_raised_not_repeated() -> None:
    fake = FakeCoder()
    fake.on("POST", "/api/v2/tasks/me", json_response(500, {"message": "Internal error."}))
    with pytest.raises(ServerError):
        fake.client().create_task(owner="me", template_version_id="v", prompt="p")
    assert len(fake.calls("POST", "/api/v2/tasks/me")) == 1


def test_busy_send_is_raised_once() -> None:
    fake, task = fake_with_task()
    fake.version = "v2.30.0"
    send = f"/api/v2/tasks/me/{task['id']}/send"
    fake.on(
        "POST",
        send,
        json_response(
            502, {"message": "Task app is not ready to accept input.", "detail": "Status: running"}
        ),
    )
    client = fake.client()
    with pytest.raises(AgentBusyError):
        client.send_input(client.get_task(str(task["id"])), "hello")
    assert len(fake.calls("POST", send)) == 1


@pytest.mark.parametrize("retry_after", ["2", "1.5"])
def test_429_waits_out_retry_after_for_every_method(retry_after: str) -> None:
    fake, task = fake_with_task()
    send = f"/api/v2/tasks/me/{task['id']}/send"
    limited = json_response(429, RATE_LIMITED, {"Retry-After": retry_after})
    fake.on("POST", send, limited, httpx.Response(204))
    slept: list[float] = []
    client = fake.client(sleep=slept.append)
    client.send_input(client.get_task(str(task["id"])), "hello")
    assert slept == [float(retry_after)]
    assert len(fake.calls("POST", send)) == 2


def test_429_costs_the_time_to_the_window_end_not_retry_after() -> None:
    """Coder always says `Retry-After: 60` (CONTRACT 9.3); X-RateLimit-Reset says when it ends."""
    fake, task = fake_with_task()
    send = f"/api/v2/tasks/me/{task['id']}/send"
    reset = int(time.time()) + 6
    limited = json_response(
        429,
        RATE_LIMITED,
        {
            "Retry-After": "60",
            "X-RateLimit-Limit": "512",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
    )
    fake.on("POST", send, limited, httpx.Response(204))
    slept: list[float] = []
    client = fake.client(sleep=slept.append)
    client.send_input(client.get_task(str(task["id"])), "hello")
    # The rest of the window plus one step of 60 s / 512, whatever Retry-After says.
    assert 4 < sum(slept) < 8, slept
    assert len(fake.calls("POST", send)) == 2


def test_429_http_date_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert retry_after_seconds(later, now=now) == 7.0
    assert (
        retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    )
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_429_total_wait_is_bounded() -> None:
    fake = FakeCoder()
    fake.on(
        "GET",
        "/api/v2/buildinfo",
        *[json_response(429, RATE_LIMITED, {"Retry-After": "60"}) for _ in range(5)],
    )
    slept: list[float] = []
    with pytest.raises(RateLimitedError) as caught:
        _ = fake.client(sleep=slept.append, max_rate_limit_wait=150).server
    assert slept == [60.0, 60.0]
    assert "rate limited" in caught.value.message
    assert any("waiting 120 s" in line for line in caught.value.details)


def test_delete_retry_that_finds_the_task_gone_counts_as_done() -> None:
    fake, task = fake_with_task()
    path = f"/api/v2/tasks/alice/{task['id']}"
    fake.on(
        "DELETE",
        path,
        httpx.ReadError("connection reset"),
        json_response(
            404, {"message": "Resource not found or you do not have access to this resource"}
        ),
    )
    client = fake.client()
    client.delete_task(client.get_task(str(task["id"])))
    assert len(fake.calls("DELETE", path)) == 2


def test_delete_404_without_earlier_attempt_is_an_error() -> None:
    fake, task = fake_with_task()
    path = f"/api/v2/tasks/alice/{task['id']}"
    fake.on(
        "DELETE",
        path,
        json_response(429, RATE_LIMITED, {"Retry-After": "0"}),
        json_response(
            404, {"message": "Resource not found or you do not have access to this resource"}
        ),
    )
    client = fake.client()
    from runner.errors import NotFoundError

    with pytest.raises(NotFoundError):
        client.delete_task(client.get_task(str(task["id"])))


def test_delete_is_retried_on_5xx() -> None:
    fake, task = fake_with_task()
    path = f"/api/v2/tasks/alice/{task['id']}"
    fake.on("DELETE", path, json_response(503, BOOM), httpx.Response(202))
    client = fake.client()
    client.delete_task(client.get_task(str(task["id"])))
    assert len(fake.calls("DELETE", path)) == 2
