"""The simulated deployment's HTTP server.

INTERFACE SKELETON: the constructor, attributes and methods below are fixed (the CLI's `--sim`,
`tasks sim` and the test fixtures use them); the simulator implementation fills them in.
"""

from __future__ import annotations


class SimServer:
    """A simulated Coder deployment on loopback, serving from a background thread.

    `time_scale` multiplies every server-side delay (builds, agent work, delete builds,
    rate-limit windows, Retry-After): 1.0 is real time, 0.01 is a hundred times faster.
    """

    url: str
    token: str  # the admin user's session token; not a secret

    def __init__(
        self,
        *,
        coder_version: str = "2.34.2",
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        rate_limit: int = 512,
        time_scale: float = 1.0,
        seed: int | None = None,
    ) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Bind and serve from a daemon thread; `url` is valid afterwards."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
