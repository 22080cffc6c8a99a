"""HTTP to one Coder deployment: headers, timeouts, TLS, retries, rate limits and debug lines.

The retry rules follow what is safe to repeat:

- a 429 means the server did nothing, so every request waits out `Retry-After` (bounded);
- reads (GET) are retried on 5xx and connection failures, with bounded exponential backoff and
  jitter;
- DELETE likewise, and a 404 after an attempt that may have reached the server means done;
- writes (POST/PATCH) are repeated only when the request provably never reached the server
  (the connection could not be made). A connection that broke after sending raises
  UncertainOutcomeError; a 5xx is raised as it is, never repeated blindly.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any
from urllib.parse import unquote_plus

import httpx

from runner import __version__
from runner.coder.config import Connection, is_secret_header
from runner.coder.errors import error_from_response
from runner.errors import ApiError, RateLimitedError, TransportError, UncertainOutcomeError
from runner.secrets import MASK, redact, register_secret

USER_AGENT = f"coder-tasks/{__version__}"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

#: Backoff for 5xx and connection failures: base * 2**attempt, capped, times a 50-100 % jitter.
BACKOFF_BASE_SECONDS = 0.4
BACKOFF_CAP_SECONDS = 8.0
#: Connection failures retried while the deployment has not answered even once.
RETRIES_BEFORE_FIRST_ANSWER = 1
#: Total time one request may spend waiting out 429s before giving up.
MAX_RATE_LIMIT_WAIT_SECONDS = 180.0
#: 429s in a row after which a request gives up even if each wait was short.
MAX_RATE_LIMIT_WAITS = 30


class RetryPolicy(Enum):
    """How a request may be repeated after a failure."""

    READ = "read"
    DELETE = "delete"
    WRITE = "write"


#: Failures where the request cannot have reached the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    ) -> None:
        self.url = connection.url
        self._debug = on_debug
        self._max_retries = max(0, max_retries)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._max_rate_limit_wait = max_rate_limit_wait
        self._has_token = bool(connection.token)
        self._reached = False
        if not connection.simulated:
            register_secret(connection.token)
        pairs = [("User-Agent", USER_AGENT), ("Accept", "application/json")]
        if connection.token:
            pairs.append(("Coder-Session-Token", connection.token))
        pairs.extend(connection.headers)
        headers = httpx.Headers(pairs)
        verify: ssl.SSLContext | bool = True
        if connection.ca_bundle:
            verify = ssl.create_default_context(cafile=connection.ca_bundle)
        self._client = httpx.Client(
            base_url=connection.url,
            headers=headers,
            timeout=TIMEOUT,
            verify=verify,
            transport=transport,
            follow_redirects=False,
        )
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
        retries = 0
        rate_waits = 0
        rate_waited = 0.0
        may_have_happened = False
        while True:
            request = self._client.build_request(method, path, params=params, json=body)
            target = _target(request)
            started = self._clock()
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, _NEVER_SENT)
                reason = describe_failure(exc)
                self._log(f"{target} -> {reason} after {self._elapsed_ms(started)} ms")
                if self._can_retry_failure(exc, policy, retries):
                    retries += 1
                    self._wait(self._backoff(retries), reason)
                    may_have_happened = may_have_happened or not never_sent
                    continue
                raise self._transport_error(exc, method, path, policy) from None
            response.read()
            self._reached = True
            self._log(f"{target} -> {response.status_code} in {self._elapsed_ms(started)} ms")
            status = response.status_code
            if status == 429:
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                if delay is None:
                    delay = self._backoff(rate_waits + 1)
                rate_waits += 1
                if (
                    rate_waited + delay > self._max_rate_limit_wait
                    or rate_waits > MAX_RATE_LIMIT_WAITS
                ):
                    raise self._rate_limited(response, method, path, rate_waited)
                rate_waited += delay
                self._wait(delay, "429 (rate limited)")
                continue
            if status >= 500 and policy is not RetryPolicy.WRITE and retries < self._max_retries:
                retries += 1
                may_have_happened = True
                self._wait(self._backoff(retries), str(status))
                continue
            if status == 404 and policy is RetryPolicy.DELETE and may_have_happened:
                self._log(f"{target}: already gone after a retry, counted as done")
                return response
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

    def _can_retry_failure(
        self, exc: httpx.TransportError, policy: RetryPolicy, retries: int
    ) -> bool:
        if retries >= self._max_retries or not _transient(exc):
            return False
        if not self._reached and retries >= RETRIES_BEFORE_FIRST_ANSWER:
            return False  # a deployment that never answered is most likely down: say so fast
        if isinstance(exc, _NEVER_SENT):
            return True
        return policy is not RetryPolicy.WRITE

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._jitter())

    def _wait(self, seconds: float, why: str) -> None:
        self._log(f"retrying in {seconds:.1f} s after {why}")
        self._sleep(seconds)

    # -- errors -------------------------------------------------------------------------------

    def _transport_error(
        self, exc: httpx.TransportError, method: str, path: str, policy: RetryPolicy
    ) -> TransportError:
        reason = describe_failure(exc)
        if policy is RetryPolicy.WRITE and not isinstance(exc, _NEVER_SENT):
            return UncertainOutcomeError(
                f"the connection to {self.url} broke after {method} {path} was sent ({reason}): "
                "the server may have done it; check before repeating it"
            )
        return TransportError(f"cannot reach {self.url}: {reason}")

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


def describe_failure(exc: httpx.TransportError) -> str:
    """A short, token-free reason for a transport failure: `connection refused`, `timed out`, …"""
    text = " ".join(str(part) for part in _causes(exc)).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.ReadTimeout):
        return "timed out waiting for the response"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "TLS failure (certificate not trusted? pass --ca-bundle)" + _detail(exc)
    if "refused" in text:
        return "connection refused"
    if any(
        word in text
        for word in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "name resolution",
        )
    ):
        return "host name not found"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without a response"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "the connection broke"
    return redact(str(exc) or type(exc).__name__)


def describe_headers(headers: httpx.Headers) -> str:
    """Request headers for a debug line, credentials masked."""
    shown = []
    for name, value in headers.multi_items():
        masked = name.lower() == "coder-session-token" or is_secret_header(name)
        shown.append(f"{name}: {MASK if masked else value}")
    return ", ".join(shown)


def _transient(exc: httpx.TransportError) -> bool:
    """Failures worth retrying: not a TLS problem or an unknown host, which will not heal."""
    reason = describe_failure(exc)
    return not reason.startswith(("TLS failure", "host name not found"))


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _detail(exc: httpx.TransportError) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f": {cause.reason}"
    return ""


def _target(request: httpx.Request) -> str:
    query = request.url.query.decode("ascii", errors="replace")
    path = request.url.path
    return f"{request.method} {path}?{unquote_plus(query)}" if query else f"{request.method} {path}"
