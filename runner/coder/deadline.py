"""One deadline for a whole HTTP exchange: status line, headers and body.

httpx bounds each socket read, not their sum, so a server that sends its status line and
headers one byte at a time never trips a read timeout. Here every read and write of the
connection pool's sockets is bounded by what is left of the deadline of the request the
calling thread is making (requests are synchronous: the thread that sends one reads its
answer), and a read once the deadline has passed fails at once. httpx maps the httpcore
timeout raised here to `httpx.ReadTimeout` / `httpx.WriteTimeout`, as for any other timeout.

httpx takes no network backend, so the one of the connection pool that serves the
deployment's URL is wrapped in place; a transport without one (a test's mock) is left alone.
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx


class Deadline:
    """The deadline of the request each thread is making (a `clock` instant), if any."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._local = threading.local()

    @contextmanager
    def until(self, instant: float) -> Iterator[None]:
        """Within the block, this thread's socket reads and writes end by `instant`."""
        self._local.instant = instant
        try:
            yield
        finally:
            self._local.instant = None

    def bound(self, timeout: float | None, error: type[Exception]) -> float | None:
        """`timeout` cut to what is left of the deadline; `error` once nothing is left."""
        instant: float | None = getattr(self._local, "instant", None)
        if instant is None:
            return timeout
        left = instant - self._clock()
        if left <= 0:
            raise error("request deadline passed")
        return left if timeout is None else min(timeout, left)


_outer = threading.local()


@contextmanager
def no_later_than(instant: float, why: str) -> Iterator[None]:
    """Within the block, every request this thread makes ends by `instant` (`time.monotonic`),
    its retries and waits included, whatever its own deadline; `why` names the bound in the
    error (e.g. a poll within the lost-contact window)."""
    previous = getattr(_outer, "bound", None)
    _outer.bound = (instant, why)
    try:
        yield
    finally:
        _outer.bound = previous


def outer_bound() -> tuple[float, str] | None:
    """The `no_later_than` bound around this thread's requests: seconds left, and why."""
    bound: tuple[float, str] | None = getattr(_outer, "bound", None)
    if bound is None:
        return None
    return bound[0] - time.monotonic(), bound[1]


def install(client: httpx.Client, url: str, deadline: Deadline) -> bool:
    """Make the connections `client` opens to `url` keep `deadline`; False if it cannot."""
    # Private in httpx and httpcore: which transport serves a URL, and its pool's backend.
    transport = client._transport_for_url(httpx.URL(url))
    pool: typing.Any = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        return False
    pool._network_backend = _Backend(backend, deadline)
    return True


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        return _Stream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(stream, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)
