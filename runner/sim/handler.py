"""The HTTP side: one request through latency, faults, rate limit, routing, auth and the log."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from runner.sim.apierror import ApiError
from runner.sim.auth import authenticate, find_token
from runner.sim.routes import Request

if TYPE_CHECKING:
    from runner.sim.server import SimServer

CONTROL_PREFIX = "/__sim/"


class RequestLog:
    """The API requests the server saw (the latest `limit`): method, path, query, status."""

    def __init__(self, limit: int = 10_000) -> None:
        # Bounded so that a long-running `tasks sim` does not grow without end.
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Arrivals:
    """API requests as they arrive, before latency, faults or any answer, and a gate that holds
    the ones a test names: so a test can act while a request is on the server, its reply not
    yet sent (e.g. stop the client in the middle of a create), then let the server go on.

    Requests are named by method and a path prefix, in which `*` stands for one path segment
    (`/api/*/tasks/*/*/send`: a task's follow-ups, whatever the route generation or task).
    """

    #: Longest a request is held, should a test never release it.
    MAX_HOLD_SECONDS = 120.0

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: deque[tuple[str, str]] = deque(maxlen=limit)  # bounded, as the log
        self._hold: tuple[str, re.Pattern[str]] | None = None
        self._held = 0  # held requests not yet answered
        self._changed = threading.Condition()

    def hold(self, method: str, path_prefix: str) -> None:
        """Hold every later `method` request under `path_prefix` until `release`."""
        with self._changed:
            self._hold = (method, _prefix(path_prefix))

    def clear(self) -> None:
        """Forget the requests seen so far (what `wait` counts)."""
        with self._changed:
            self._seen.clear()

    def release(self, *, timeout: float) -> bool:
        """Let held requests go on; whether all of them were answered within `timeout` s."""
        with self._changed:
            self._hold = None
            self._changed.notify_all()
            return self._changed.wait_for(lambda: self._held == 0, timeout)

    def wait(self, method: str, path_prefix: str, *, count: int = 1, timeout: float) -> bool:
        """Whether `count` `method` requests under `path_prefix` arrived within `timeout` s."""

        prefix = _prefix(path_prefix)

        def arrived() -> bool:
            found = [p for m, p in self._seen if m == method and prefix.match(p)]
            return len(found) >= count

        with self._changed:
            return self._changed.wait_for(arrived, timeout)

    @contextlib.contextmanager
    def arrive(self, method: str, path: str) -> Iterator[None]:
        """Around serving one request: note it, and hold it while the gate says so."""

        def holding() -> bool:
            hold = self._hold
            return hold is not None and method == hold[0] and hold[1].match(path) is not None

        with self._changed:
            self._seen.append((method, path))
            held = holding()
            self._held += held
            self._changed.notify_all()
            if held:
                self._changed.wait_for(lambda: not holding(), self.MAX_HOLD_SECONDS)
        try:
            yield
        finally:
            if held:
                with self._changed:
                    self._held -= 1
                    self._changed.notify_all()


def _prefix(pattern: str) -> re.Pattern[str]:
    """A path prefix where `*` stands for one path segment; a trailing `$` makes it the whole
    path (`/api/v2/chats$` is the list, not a chat below it)."""
    whole = pattern.endswith("$")
    parts = (pattern[:-1] if whole else pattern).split("*")
    return re.compile("[^/]+".join(re.escape(part) for part in parts) + ("$" if whole else ""))


class SimRequestHandler(BaseHTTPRequestHandler):
    """Serves one connection for the `SimServer` stored on the socket server."""

    protocol_version = "HTTP/1.1"
    # Responses are small and written at once; Nagle plus delayed ACKs would add ~40 ms each.
    disable_nagle_algorithm = True
    server_version = "coder-sim"
    sim: SimServer  # set on the subclass the server builds

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log keeps what matters."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """`Date` from the simulated clock: Go's net/http stamps it with the server's time.Now()
        (net/http/server.go), the clock httprate's windows follow too (CONTRACT 9.3)."""
        return super().date_time_string(self.sim.clock.now() if timestamp is None else timestamp)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if path.startswith(CONTROL_PREFIX):
            self._control(path, body)
            return
        with self.sim.arrivals.arrive(self.command, path):
            self._serve_api(path, parts.query, query, body)

    def _serve_api(self, path: str, raw_query: str, query: dict[str, str], body: bytes) -> None:
        sim = self.sim
        if sim.latency_ms > 0:
            time.sleep(sim.latency_ms / 1000)
        entry: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "query": raw_query,
            "status": 0,
        }
        fault = sim.faults.take(self.command, path)
        if fault is not None and fault.when == "before":
            entry["fault"] = "before"
            entry["status"] = fault.status
            sim.request_log.add(entry)
            if fault.status == 0:
                self._drop()
            else:
                error = ApiError(fault.status, "Simulated failure injected by the test.")
                self._send(fault.status, error.body(), {})
            return
        status, payload, headers = self._answer(path, query, body)
        entry["status"] = status
        if sim.exchanges is not None:  # contract tests judge every answer afterwards
            sim.exchanges.append({**entry, "query": raw_query, "body": body, "payload": payload})
        if fault is not None:
            entry["fault"] = "after"
            sim.request_log.add(entry)
            self._drop()
            return
        sim.request_log.add(entry)
        self._send(status, payload, headers)

    def _answer(
        self, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        sim = self.sim
        headers: dict[str, str] = {}
        try:
            if path.startswith("/api/"):
                token = find_token({k.lower(): v for k, v in self.headers.items()}, query)
                decision = sim.rate_limiter.check(self.client_address[0], path, token)
                headers.update(decision.headers)
                if not decision.allowed:
                    raise ApiError(429, decision.message)
            route, handler, params = sim.api.match(self.command, path)
            caller = None
            if route.authenticated:
                lowered = {k.lower(): v for k, v in self.headers.items()}
                caller = authenticate(sim.directory, find_token(lowered, query))
            request = Request(
                method=self.command,
                path=path,
                query=query,
                body=body,
                caller=caller,
                params={k: unquote(v) for k, v in params.items()},
                query_items=tuple(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)),
            )
            status, payload = handler(request)
            return status, payload, headers
        except ApiError as error:
            if error.status == 405:
                return 405, None, headers
            return error.status, error.body(), headers
        except Exception as bug:  # a simulator bug still answers like a server would
            return 500, {"message": "Internal error.", "detail": repr(bug)}, headers

    def _control(self, path: str, body: bytes) -> None:
        """`/__sim/…`: fault rules and the request log, without auth or rate limit."""
        sim = self.sim
        action = (self.command, path.rstrip("/"))
        try:
            if action == ("POST", "/__sim/faults"):
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("expected a JSON object")
                allowed = {"method", "path", "when", "times", "status"}
                unknown = set(spec) - allowed
                if unknown:
                    raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
                sim.faults.add(**spec)
                self._send(201, {"message": "Fault added."}, {})
            elif action == ("DELETE", "/__sim/faults"):
                sim.faults.clear()
                self._send(204, None, {})
            elif action == ("GET", "/__sim/requests"):
                self._send(200, sim.request_log.entries(), {})
            elif action == ("POST", "/__sim/reset-log"):
                sim.request_log.clear()
                self._send(204, None, {})
            elif action == ("GET", "/__sim/info"):
                info = {"coder_version": str(sim.version), "url": sim.url, "tokens": sim.tokens}
                self._send(200, info, {})
            else:
                self._send(404, {"message": "Route not found."}, {})
        except (ValueError, TypeError) as error:
            self._send(400, {"message": "Invalid fault.", "detail": str(error)}, {})

    def _drop(self) -> None:
        """Close the connection without a response: the client sees a disconnect."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("X-Coder-Build-Version", self.sim.build_version)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)
