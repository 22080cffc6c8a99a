"""The simulated deployment's HTTP server: a `ThreadingHTTPServer` on loopback.

It follows CONTRACT.md for the chosen `coder_version`: 2.28.x serves the experimental routes
only; 2.29 to 2.37 serve `/api/v2/tasks` and `/api/experimental/tasks` (2.36 unless switched
off, 2.37 only when switched on: `enable_ai_tasks`); 2.38+ serves no task route. See
`runner.sim.directives` for the `[sim:…]` directives that steer the simulated agent, and
`runner.sim.faults` for fault injection.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from typing import Any

from runner import defaults
from runner.sim.apierror import ApiError
from runner.sim.auth import authenticate
from runner.sim.chats.capacity import chat_capacity_of
from runner.sim.chats.generation import ChatGeneration
from runner.sim.chats.routes import install as install_chat_routes
from runner.sim.chats.store import ChatStore
from runner.sim.chats.workspaces import install as install_workspace_routes
from runner.sim.clock import SimClock
from runner.sim.directory import Directory
from runner.sim.faults import Faults
from runner.sim.handler import Arrivals, RequestLog, SimRequestHandler
from runner.sim.ratelimit import RateLimiter
from runner.sim.routes import Api
from runner.sim.tasks import TaskStore
from runner.sim.versions import SimVersion

#: The listen backlog asked for: the kernel caps it at `net.core.somaxconn`, which is what
#: Coder's server gets (`net.Listen` in `cli/server.go`; Go's listeners take the system's
#: `somaxconn`, at most 65535). Python's default of 5 made a starved accept loop reset the
#: connections of a burst of creates (SYN cookies, then a full accept queue), which no Coder
#: deployment does.
LISTEN_BACKLOG = 65535


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up before its answer is written (a stopped or timed-out
        # command) is ordinary traffic, not a fault of the deployment: no traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SimServer:
    """A simulated Coder deployment on loopback, serving from a background thread.

    `time_scale` multiplies every server-side delay (builds, agent work, delete builds,
    rate-limit windows, Retry-After): 1.0 is real time, 0.01 is a hundred times faster.
    `now` replaces the wall clock (Unix seconds), for callers that move time themselves.
    `enable_ai_tasks` is Coder's CODER_ENABLE_AI_TASKS on 2.36 and 2.37 (None: the release's
    default); other releases refuse it where it contradicts them (`SimVersion.serves_tasks`).
    `chat_capacity` (root, sub-agent) caps the chats worked on at once, as an unlicensed
    v2.37+ deployment does at (5, 10); None (the default) is uncapped, as a licensed one is.
    `request_price_micros` is what the AI Gateway charges per chat model request (USD micros;
    0: nothing priced), which `GET {P}/{chat}/cost` sums (CHATS-CONTRACT 7.4).
    """

    url: str
    token: str  # the admin user's session token; not a secret

    def __init__(
        self,
        *,
        coder_version: str = defaults.SIM_CODER_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        rate_limit: int = 512,
        time_scale: float = 1.0,
        seed: int | None = None,
        enable_ai_tasks: bool | None = None,
        fail_rate: float = 0.0,
        lose_rate: float = 0.0,
        build_version: str = "",
        experiments: Sequence[str] = (),
        now: Callable[[], float] | None = None,
        chat_capacity: tuple[int, int] | None = None,
        request_price_micros: int = 0,
    ) -> None:
        self.version = SimVersion.parse(coder_version)
        if latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.clock = SimClock(time_scale, now)
        rng = random.Random(seed)
        self.directory = Directory(rng, self.clock.now())
        self.store = TaskStore(self.version, self.directory, self.clock, rng)
        self.rate_limiter = RateLimiter(
            rate_limit,
            self.clock,
            user_for_token=self._user_id_for if self.version.at_least(2, 32) else None,
        )
        self.faults = Faults(fail_rate=fail_rate, lose_rate=lose_rate, seed=seed)
        self.request_log = RequestLog()
        self.arrivals = Arrivals()
        #: Every answered request with its bodies, when a test sets a list here (None: off).
        self.exchanges: list[dict[str, Any]] | None = None
        #: Coder's CODER_ENABLE_AI_TASKS (None: the release's default; CHATS-CONTRACT 7.1).
        self.tasks_served = self.version.serves_tasks(enable_ai_tasks)
        # `build_version` makes, e.g., a v2.28.11 deployment report itself as a development build.
        self.build_version = build_version or self.version.build_version
        self.deployment_id = str(self.store._uuid())
        self.api = Api(self.store, self.directory, self._buildinfo, tasks_served=self.tasks_served)
        self.chats = self._chat_store(rng, experiments, chat_capacity, request_price_micros)
        install_chat_routes(self.api, self.chats, self.faults)
        install_workspace_routes(self.api, self.store)
        self.tokens: dict[str, str] = {u.username: u.token for u in self.directory.users}
        self.token = self.tokens["admin"]
        self.url = ""
        self._httpd: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _chat_store(
        self,
        rng: random.Random,
        experiments: Sequence[str],
        chat_capacity: tuple[int, int] | None,
        request_price_micros: int,
    ) -> ChatStore:
        """The chats of this release (and experiments), sharing the task store's workspaces."""
        generation = ChatGeneration.of(self.version, experiments)
        return ChatStore(
            generation,
            self.directory,
            self.clock,
            rng,
            self.store.workspaces,
            capacity=chat_capacity_of(generation, chat_capacity),
            request_price_micros=request_price_micros,
        )

    def _user_id_for(self, token: str) -> str | None:
        """The id of a valid token's user (Coder's PrecheckAPIKey), None otherwise."""
        try:
            return str(authenticate(self.directory, token).id)
        except ApiError:
            return None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request log: `[{method, path, query, status}]` (plus `fault` where injected)."""
        return self.request_log.entries()

    def _buildinfo(self) -> dict[str, Any]:
        return {
            "external_url": "https://github.com/coder/coder",
            "version": self.build_version,
            "dashboard_url": self.url,
            "telemetry": False,
            "workspace_proxy": False,
            "agent_api_version": "2.0",
            "provisioner_api_version": "1.0",
            "upgrade_message": "",
            "deployment_id": self.deployment_id,
        }  # `webpush_public_key` is `omitempty`, and no key is configured

    def listen(self) -> None:
        """Bind and listen without serving yet (the kernel queues connections); `url` is valid
        afterwards. `start` does this itself when it was not done."""
        handler = type("BoundHandler", (SimRequestHandler,), {"sim": self})
        self._httpd = SimHTTPServer((self.host, self.port), handler)
        host, port = self._httpd.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host_text}]" if ":" in host_text else host_text
        self.port = int(port)
        self.url = f"http://{shown}:{port}"

    def start(self) -> None:
        """Bind (unless `listen` did) and serve from a daemon thread; `url` is valid afterwards."""
        if self._httpd is None:
            self.listen()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="coder-sim",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._httpd is not None:
            if self._thread is not None:  # shutdown() waits for serve_forever to end
                self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
