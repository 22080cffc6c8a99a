"""Request deadlines: a server that stalls or trickles fails at the deadline, never hangs.

The misbehaving servers are the test's own loopback sockets: each serves a bounded number of
connections, sends a bounded number of bytes, and stops by itself at the end of the test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from runner.coder import deadline
from runner.coder.config import Connection
from runner.coder.transport import ApiTransport
from runner.errors import (
    ConnectTimeoutError,
    DeadlineExceededError,
    NotSentError,
    UncertainOutcomeError,
)
from tests.conftest import run_tasks

from .fakes import FakeCoder

#: Longest any misbehaving server keeps a connection open, whatever the client does.
SERVER_LIFETIME_SECONDS = 30.0


class BadServer:
    """Accepts connections on loopback and answers each with `behave(conn, stop)`."""

    def __init__(self, behave: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stop = threading.Event()
        self.accepted = 0
        self._behave = behave
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        ends = time.monotonic() + SERVER_LIFETIME_SECONDS
        while not self.stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        self._listener.close()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(SERVER_LIFETIME_SECONDS)
            try:
                conn.recv(65536)  # the request head; its content does not matter here
                self._behave(conn, self.stop)
            except OSError:
                pass  # the client gave up and closed: what the test wants

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=5)


def stall(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the request and never answer (until the test ends)."""
    stop.wait(SERVER_LIFETIME_SECONDS)


def trickle(conn: socket.socket, stop: threading.Event) -> None:
    """Headers at once, then a body of one byte a second that would take 100 s to finish."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    for _ in range(100):
        if stop.wait(1.0):
            return
        conn.sendall(b" ")


def trickle_head(conn: socket.socket, stop: threading.Event) -> None:
    """The status line and headers one byte a second: each byte is well within any read
    timeout, and the whole head would take minutes."""
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 200 + b"\r\n\r\n"
    for byte in head:
        conn.sendall(bytes([byte]))
        if stop.wait(1.0):
            return


@pytest.fixture
def bad_server() -> Iterator[
    Callable[[Callable[[socket.socket, threading.Event], None]], BadServer]
]:
    servers: list[BadServer] = []

    def start(behave: Callable[[socket.socket, threading.Event], None]) -> BadServer:
        server = BadServer(behave)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def tasks_against(server: BadServer, *args: str) -> tuple[int, list[str], float]:
    env = {"CODER_URL": server.url, "CODER_SESSION_TOKEN": "id-secret"}
    started = time.monotonic()
    result = run_tasks([*args, "list"], env=env, timeout=SERVER_LIFETIME_SECONDS)
    return result.code, result.stderr.splitlines(), time.monotonic() - started


@pytest.mark.parametrize(
    ("behave", "seconds"), [(stall, 2), (trickle_head, 3)], ids=["silent", "trickling-headers"]
)
def test_a_server_that_never_completes_its_headers_fails_at_the_deadline(
    bad_server: Callable[..., BadServer],
    behave: Callable[[socket.socket, threading.Event], None],
    seconds: int,
) -> None:
    """Silent, or each byte well within any read timeout: only a deadline over the whole
    exchange, status line and headers included, stops it."""
    server = bad_server(behave)
    code, lines, took = tasks_against(server, "--request-timeout", f"{seconds}s")
    assert code == 1
    assert lines == [
        f"error: GET /api/v2/buildinfo: no complete response from {server.url} within the "
        f"{seconds} s request deadline (--request-timeout / TASKS_REQUEST_TIMEOUT)"
    ]
    # A deployment that never answered is not asked again: one deadline, not two.
    assert server.accepted == 1
    assert took < 20  # the trickling head alone would take over 200 s


def test_a_trickling_body_fails_at_the_deadline(bad_server: Callable[..., BadServer]) -> None:
    """Each byte arrives well within any read timeout; only an overall deadline stops it."""
    server = bad_server(trickle)
    code, lines, took = tasks_against(server, "--request-timeout", "3")
    assert code == 1
    assert len(lines) == 1 and "within the 3 s request deadline" in lines[0], lines
    assert took < 20  # the body alone would take 100 s


def test_the_deadline_comes_from_the_environment(bad_server: Callable[..., BadServer]) -> None:
    server = bad_server(stall)
    env = {
        "CODER_URL": server.url,
        "CODER_SESSION_TOKEN": "id-secret",
        "TASKS_REQUEST_TIMEOUT": "1.5s",
    }
    result = run_tasks(["list"], env=env, timeout=SERVER_LIFETIME_SECONDS)
    assert result.code == 1
    assert "within the 1.5 s request deadline" in result.stderr


@pytest.mark.parametrize("value", ["0", "-1s", "soon", "nan"])
def test_a_bad_timeout_is_invalid_input(value: str) -> None:
    result = run_tasks(["--request-timeout", value, "--url", "http://127.0.0.1:9", "list"])
    assert result.code == 3
    assert "--request-timeout" in result.stderr.splitlines()[0]


def test_connect_timeout_is_named_in_the_error() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", *[httpx.ConnectTimeout("timed out") for _ in range(2)])
    with pytest.raises(ConnectTimeoutError) as caught:
        _ = fake.client().server
    assert caught.value.message == (
        "cannot reach https://coder.example.com: no connection within the 10 s connect timeout "
        "(--connect-timeout / TASKS_CONNECT_TIMEOUT)"
    )


def test_a_create_past_its_deadline_is_an_uncertain_outcome_naming_the_deadline() -> None:
    fake = FakeCoder()
    fake.on("POST", "/api/v2/tasks/me", httpx.ReadTimeout("timed out"))
    client = fake.client()
    with pytest.raises(UncertainOutcomeError) as caught:
        client.create_task(owner="me", template_version_id="v", prompt="p")
    assert "request deadline" in caught.value.message
    assert "may have done it" in caught.value.message
    assert len(fake.calls("POST", "/api/v2/tasks/me")) == 1


def test_deadline_errors_are_typed() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", httpx.ReadTimeout("timed out"))
    with pytest.raises(DeadlineExceededError):
        _ = fake.client().server


WINDOW = "the test's window"


def test_an_outer_bound_ends_a_request_to_a_silent_server_before_its_own_deadline(
    bad_server: Callable[..., BadServer],
) -> None:
    """`deadline.no_later_than` (a poll within the lost-contact window) cuts the 60 s request
    deadline short: the request ends at the bound and says which bound it was."""
    server = bad_server(stall)
    transport = ApiTransport(Connection(url=server.url, token="id-secret"))
    started = time.monotonic()
    with (
        pytest.raises(DeadlineExceededError) as caught,
        deadline.no_later_than(started + 1.0, WINDOW),
    ):
        transport.request("GET", "/api/v2/buildinfo")
    took = time.monotonic() - started
    transport.close()
    assert caught.value.message == (
        f"GET /api/v2/buildinfo: no complete response from {server.url} within {WINDOW}"
    )
    assert 1.0 <= took < 20  # the request's own deadline is 60 s, and a retry another 60


def test_no_retry_waits_past_an_outer_bound() -> None:
    """A refused connection is retried after a backoff, unless the backoff ends past the bound:
    then the request fails at once, and nothing sleeps."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    slept: list[float] = []
    transport = ApiTransport(Connection(url=url, token="id-secret"), sleep=slept.append)
    with (
        pytest.raises(DeadlineExceededError) as caught,
        deadline.no_later_than(time.monotonic() + 0.1, WINDOW),
    ):
        transport.request("GET", "/api/v2/buildinfo")
    transport.close()
    assert slept == []
    assert caught.value.message == (
        f"cannot reach {url}: connection refused; no retry fits within {WINDOW}"
    )
    # Without a bound, the same failure is retried after a backoff.
    transport = ApiTransport(Connection(url=url, token="id-secret"), sleep=slept.append)
    with pytest.raises(NotSentError):
        transport.request("GET", "/api/v2/buildinfo")
    transport.close()
    assert len(slept) == 1
