"""HTTP to one Coder deployment: headers, deadlines, TLS, retries, rate limits and debug lines.

Every request has a connect timeout and an overall deadline that covers the whole exchange,
status line, headers and body (`runner.coder.deadline`), so a server that accepts and never
answers, or trickles its headers or body, fails at the deadline instead of hanging.

The retry rules follow what is safe to repeat; they are decided on the failure's type:

- requests are paced per path on Coder's rate-limit headers (`runner.coder.pacing`), so the
  server has no reason to refuse one; a 429 means the server did nothing, so every request waits
  until the rate-limit window's end (from `X-RateLimit-Reset`, else `Retry-After`; bounded);
- reads (GET) are retried on 5xx and connection failures, with bounded exponential backoff and
  jitter;
- DELETE likewise, and a 404 after an attempt that may have reached the server means done;
- writes (POST/PATCH) are repeated only when the request provably never reached the server
  (the connection could not be made). A connection that broke after sending raises
  UncertainOutcomeError; a 5xx is raised as it is, never repeated blindly.
"""

from __future__ import annotations

import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any
from urllib.parse import unquote_plus

import httpx

from runner import __version__
from runner.coder import deadline
from runner.coder.config import Connection, is_secret_header
from runner.coder.errors import error_from_response
from runner.coder.pacing import Grant, RatePacer
from runner.errors import (
    ApiError,
    ConnectTimeoutError,
    DeadlineExceededError,
    HostNotFoundError,
    NotSentError,
    RateLimitedError,
    TlsError,
    TransportError,
    UncertainOutcomeError,
)
from runner.secrets import MASK, redact, register_secret

USER_AGENT = f"coder-tasks/{__version__}"
#: Where the two deadlines are set, for the error that names one.
CONNECT_TIMEOUT_SETTING = "--connect-timeout / TASKS_CONNECT_TIMEOUT"
REQUEST_TIMEOUT_SETTING = "--request-timeout / TASKS_REQUEST_TIMEOUT"

#: Backoff for 5xx and connection failures: base * 2**attempt, capped, times a 50-100 % jitter.
BACKOFF_BASE_SECONDS = 0.4
BACKOFF_CAP_SECONDS = 8.0
#: Connection failures retried while the deployment has not answered even once.
RETRIES_BEFORE_FIRST_ANSWER = 1
#: Total time one request may spend waiting out 429s before giving up.
MAX_RATE_LIMIT_WAIT_SECONDS = 180.0
#: 429s in a row after which a request gives up even if each wait was short.
MAX_RATE_LIMIT_WAITS = 30
#: A request that ran into its deadline is repeated at most this often (a read, once the
#: deployment has answered before): a frozen server must not cost many deadlines.
MAX_DEADLINE_RETRIES = 1


class RetryPolicy(Enum):
    """How a request may be repeated after a failure."""

    READ = "read"
    DELETE = "delete"
    WRITE = "write"


@dataclass
class _Attempts:
    """What one logical request's attempts have used of their allowances."""

    retries: int = 0
    deadline_retries: int = 0
    rate_waits: int = 0
    rate_waited: float = 0.0  # seconds
    may_have_happened: bool = False  # an earlier attempt may have reached the server


class ApiTransport:
    """Sends requests to one deployment and applies the retry rules above."""

    def __init__(
        self,
        connection: Connection,
        *,
        on_debug: Callable[[str], None] | None = None,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT_SECONDS,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.url = connection.url
        self._pacer = RatePacer(wall=wall, sleep=sleep, on_wait=self._log_pacing)
        self._debug = on_debug
        self._max_retries = max(0, max_retries)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._max_rate_limit_wait = max_rate_limit_wait
        self._has_token = bool(connection.token)
        self._reached = False
        self._connect_timeout = max(0.001, connection.connect_timeout)
        self._request_timeout = max(0.001, connection.request_timeout)
        if not connection.simulated:
            register_secret(connection.token)
        pairs = [("User-Agent", USER_AGENT), ("Accept", "application/json")]
        if connection.token:
            pairs.append(("Coder-Session-Token", connection.token))
        pairs.extend(connection.headers)
        headers = httpx.Headers(pairs)
        # Building a TLS context loads the CA store (~90 ms): only an https deployment needs one.
        # Redirects are not followed, so a plain-http client never meets an https URL.
        verify: ssl.SSLContext | bool = connection.url.lower().startswith("https:")
        if verify and connection.ca_bundle:
            verify = ssl.create_default_context(cafile=connection.ca_bundle)
        self._client = httpx.Client(
            base_url=connection.url,
            headers=headers,
            # Each phase may take the whole deadline; `self._deadline` enforces the overall one.
            timeout=httpx.Timeout(
                self._request_timeout, connect=min(self._connect_timeout, self._request_timeout)
            ),
            verify=verify,
            transport=transport,
            follow_redirects=False,
        )
        self._deadline = deadline.Deadline(clock)
        deadline.install(self._client, connection.url, self._deadline)
        self._log(f"deployment {connection.url}; headers: {describe_headers(headers)}")

    @property
    def has_token(self) -> bool:
        """Whether a session token is configured at all."""
        return self._has_token

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        policy: RetryPolicy = RetryPolicy.READ,
    ) -> httpx.Response:
        """Send one logical request, retrying as `policy` allows; raise a TasksError on failure.

        Returns the successful response, or for `RetryPolicy.DELETE` a 404 response when an
        earlier attempt may already have deleted the resource.
        """
        attempts = _Attempts()
        while True:
            request = self._client.build_request(method, path, params=params, json=body)
            target = _target(request)
            route = request.url.path  # Coder's limiter counts per exact path
            grant = self._pacer.acquire(route)
            if grant.waited:
                self._log(f"{target}: paced {grant.waited:.1f} s to stay within the rate limit")
            started = self._clock()
            try:
                response = self._receive(request, started)
            except httpx.TransportError as exc:
                self._pacer.abandon(route, grant)
                failure = self._classify(exc, method, path)
                self._log(f"{target} -> {failure.message} after {self._elapsed_ms(started)} ms")
                if not self._retry_after_failure(failure, policy, attempts):
                    raise self._final_error(failure, method, path, policy) from None
                continue
            self._reached = True
            left = response.headers.get("X-RateLimit-Remaining")
            budget = f"; rate limit: {left} left" if left is not None else ""
            self._log(
                f"{target} -> {response.status_code} in {self._elapsed_ms(started)} ms{budget}"
            )
            status = response.status_code
            if status == 429:
                self._wait_out_rate_limit(response, route, grant, attempts, method, path)
                continue
            self._pacer.observe(route, grant, response.headers)
            if (
                status >= 500
                and policy is not RetryPolicy.WRITE
                and attempts.retries < self._max_retries
            ):
                attempts.retries += 1
                attempts.may_have_happened = True
                self._wait(self._backoff(attempts.retries), str(status))
                continue
            if status == 404 and policy is RetryPolicy.DELETE and attempts.may_have_happened:
                self._log(f"{target}: already gone after a retry, counted as done")
                return response
            return self._settled(response, method, path)

    def _retry_after_failure(
        self, failure: TransportError, policy: RetryPolicy, attempts: _Attempts
    ) -> bool:
        """Whether to try again after `failure` (having waited the backoff); counts it."""
        if isinstance(failure, DeadlineExceededError):
            attempts.deadline_retries += 1
        if not self._can_retry_failure(
            failure, policy, attempts.retries, attempts.deadline_retries
        ):
            return False
        attempts.retries += 1
        self._wait(self._backoff(attempts.retries), failure.message)
        attempts.may_have_happened |= not isinstance(failure, NotSentError)
        return True

    def _wait_out_rate_limit(
        self,
        response: httpx.Response,
        route: str,
        grant: Grant,
        attempts: _Attempts,
        method: str,
        path: str,
    ) -> None:
        """Wait until the window ends (the pacer waits it out before the next attempt), not
        Coder's fixed `Retry-After: 60`; without rate headers, Retry-After it is. Raises once
        the waits would pass their bound."""
        paced_delay = self._pacer.refused(route, grant, response.headers)
        delay = paced_delay
        if delay is None:
            delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            delay = self._backoff(attempts.rate_waits + 1)
        attempts.rate_waits += 1
        if (
            attempts.rate_waited + delay > self._max_rate_limit_wait
            or attempts.rate_waits > MAX_RATE_LIMIT_WAITS
        ):
            raise self._rate_limited(response, method, path, attempts.rate_waited)
        attempts.rate_waited += delay
        if paced_delay is None:
            self._wait(delay, "429 (rate limited)")
        else:
            self._log(f"retrying in {delay:.1f} s, at the rate-limit window's end, after 429")

    def _settled(self, response: httpx.Response, method: str, path: str) -> httpx.Response:
        """`response` when it succeeded; else the error it is."""
        status = response.status_code
        if 300 <= status < 400:
            raise self._redirected(response, method, path)
        if status >= 400:
            raise error_from_response(
                status,
                response.content,
                response.headers.get("Content-Type", ""),
                method=method,
                path=path,
            )
        return response

    # -- decisions ----------------------------------------------------------------------------

    def _receive(self, request: httpx.Request, started: float) -> httpx.Response:
        """Send and read the whole response, or raise an httpx timeout at the deadline (the
        request's own, or the caller's `deadline.no_later_than` when that ends sooner)."""
        until = started + self._request_timeout
        outer = deadline.outer_bound()
        if outer is not None:
            until = min(until, self._clock() + outer[0])
        with self._deadline.until(until):
            response = self._client.send(request, stream=True)
            try:
                response.read()
            finally:
                response.close()
        # httpx binds the stream to its response (BoundSyncStream, httpx/_client.py), a cycle
        # that only the cyclic collector frees: each poll's whole body would stay until then
        # (with thousands of tasks held, rarely). Read and closed, the stream is done with.
        response.stream = httpx.ByteStream(b"")
        return response

    def _can_retry_failure(
        self, failure: TransportError, policy: RetryPolicy, retries: int, deadline_retries: int
    ) -> bool:
        if retries >= self._max_retries or isinstance(failure, (HostNotFoundError, TlsError)):
            return False  # these will not heal by repeating
        if isinstance(failure, DeadlineExceededError) and (
            not self._reached or deadline_retries > MAX_DEADLINE_RETRIES
        ):
            return False  # a deployment that never answered in time is frozen: say so
        if not self._reached and retries >= RETRIES_BEFORE_FIRST_ANSWER:
            return False  # a deployment that never answered is most likely down: say so fast
        if isinstance(failure, NotSentError):
            return True
        return policy is not RetryPolicy.WRITE

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._jitter())

    def _wait(self, seconds: float, why: str) -> None:
        outer = deadline.outer_bound()
        if outer is not None and seconds >= outer[0]:
            # A retry that would end past the caller's bound is not made: the bound holds.
            said = why if outer[1] in why else f"{why}; no retry fits within {outer[1]}"
            raise DeadlineExceededError(said)
        self._log(f"retrying in {seconds:.1f} s after {why}")
        self._sleep(seconds)

    # -- errors -------------------------------------------------------------------------------

    def _classify(self, exc: httpx.TransportError, method: str, path: str) -> TransportError:
        """The typed TransportError for an httpx failure; retry decisions use only its type."""
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectTimeoutError(
                f"cannot reach {self.url}: no connection within the "
                f"{_seconds(min(self._connect_timeout, self._request_timeout))} connect "
                f"timeout ({CONNECT_TIMEOUT_SETTING})"
            )
        if isinstance(exc, httpx.TimeoutException):  # read, write or pool: the overall deadline
            outer = deadline.outer_bound()
            if outer is not None and outer[0] <= 0:
                return DeadlineExceededError(
                    f"{method} {path}: no complete response from {self.url} within {outer[1]}"
                )
            return DeadlineExceededError(
                f"{method} {path}: no complete response from {self.url} within the "
                f"{_seconds(self._request_timeout)} request deadline ({REQUEST_TIMEOUT_SETTING})"
            )
        causes = _causes(exc)
        if any(isinstance(cause, ssl.SSLError) for cause in causes):
            return TlsError(
                f"cannot reach {self.url}: TLS failure (certificate not trusted? pass "
                f"--ca-bundle){_detail(exc)}"
            )
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return HostNotFoundError(f"cannot reach {self.url}: host name not found")
        if isinstance(exc, httpx.ConnectError):
            refused = any(isinstance(cause, ConnectionRefusedError) for cause in causes)
            reason = "connection refused" if refused else redact(str(exc) or "cannot connect")
            return NotSentError(f"cannot reach {self.url}: {reason}")
        if isinstance(exc, httpx.RemoteProtocolError):
            reason = "the server closed the connection without a response"
        elif isinstance(exc, (httpx.ReadError, httpx.WriteError)):
            reason = "the connection broke"
        else:
            reason = redact(str(exc) or type(exc).__name__)
        return TransportError(f"cannot reach {self.url}: {reason}")

    def _final_error(
        self, failure: TransportError, method: str, path: str, policy: RetryPolicy
    ) -> TransportError:
        if policy is RetryPolicy.WRITE and not isinstance(failure, NotSentError):
            return UncertainOutcomeError(
                f"{failure.message}; {method} {path} was sent, so the server may have done it: "
                "check before repeating it"
            )
        return failure

    def _rate_limited(
        self, response: httpx.Response, method: str, path: str, waited: float
    ) -> ApiError:
        error = error_from_response(
            429,
            response.content,
            response.headers.get("Content-Type", ""),
            method=method,
            path=path,
        )
        asked = response.headers.get("Retry-After", "")
        return RateLimitedError(
            429,
            error.api_message or "rate limited",
            detail=(
                f"still rate limited after waiting {waited:.0f} s"
                + (f"; the server asks for {asked} s more" if asked else "")
            ),
            method=method,
            path=path,
        )

    def _redirected(self, response: httpx.Response, method: str, path: str) -> ApiError:
        location = response.headers.get("Location", "")
        return ApiError(
            response.status_code,
            f"the deployment redirected to {location or 'another address'}; "
            "use the deployment's canonical URL",
            method=method,
            path=path,
        )

    # -- debug --------------------------------------------------------------------------------

    def _log_pacing(self, path: str, seconds: float) -> None:
        self._log(f"{path}: waiting about {seconds:.1f} s for rate-limit budget")

    def _elapsed_ms(self, started: float) -> int:
        return round((self._clock() - started) * 1000)

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(redact(line))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: seconds (integer or float) or an HTTP-date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return float(max(0.0, seconds))


def describe_headers(headers: httpx.Headers) -> str:
    """Request headers for a debug line, credentials masked."""
    shown = []
    for name, value in headers.multi_items():
        masked = name.lower() == "coder-session-token" or is_secret_header(name)
        shown.append(f"{name}: {MASK if masked else value}")
    return ", ".join(shown)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _detail(exc: BaseException) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f": {cause.reason}"
    return ""


def _target(request: httpx.Request) -> str:
    query = request.url.query.decode("ascii", errors="replace")
    path = request.url.path
    return f"{request.method} {path}?{unquote_plus(query)}" if query else f"{request.method} {path}"
