"""Global options shared by every subcommand, and the lazily built client they use."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from runner import defaults
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.coder.chats import ChatsClient
    from runner.coder.client import CoderClient
    from runner.coder.config import Connection
    from runner.coder.transport import ApiTransport
    from runner.sim.server import SimServer


@dataclass
class GlobalOptions:
    """The options given before the subcommand; builds the client on first use."""

    url: str | None = None
    token: str | None = None
    headers: tuple[str, ...] = ()
    header_command: str | None = None
    global_config: str | None = None
    ca_bundle: str | None = None
    sim: bool = False
    sim_version: str = defaults.SIM_CODER_VERSION
    debug: bool = False
    request_timeout: str | None = None
    connect_timeout: str | None = None
    _client: CoderClient | None = field(default=None, repr=False)
    _chats: ChatsClient | None = field(default=None, repr=False)
    _connection: Connection | None = field(default=None, repr=False)
    _http: ApiTransport | None = field(default=None, repr=False)
    _sim_server: SimServer | None = field(default=None, repr=False)

    @classmethod
    def from_click(cls, options: Mapping[str, Any]) -> GlobalOptions:
        return cls(
            url=options.get("url"),
            token=options.get("token"),
            headers=tuple(options.get("headers") or ()),
            header_command=options.get("header_command"),
            global_config=options.get("global_config"),
            ca_bundle=options.get("ca_bundle"),
            sim=bool(options.get("sim")),
            sim_version=options.get("sim_version") or defaults.SIM_CODER_VERSION,
            debug=bool(options.get("debug")),
            request_timeout=options.get("request_timeout"),
            connect_timeout=options.get("connect_timeout"),
        )

    def connection(self) -> Connection:
        """The deployment to talk to (starting the --sim deployment on first call)."""
        if self._connection is not None:
            return self._connection
        from runner.coder.config import Connection, resolve_connection

        if self.sim:
            from runner.sim.server import SimServer

            self._sim_server = SimServer(coder_version=self.sim_version, time_scale=0.05)
            self._sim_server.start()
            connection = Connection(
                url=self._sim_server.url, token=self._sim_server.token, simulated=True
            )
            version = self.sim_version.strip().lstrip("v")  # `v2.34.2` and `2.34.2` alike
            click.echo(
                f"Simulated Coder deployment v{version} at {connection.url} "
                "(nothing here is real).",
                err=True,
            )
        else:
            connection = resolve_connection(
                url=self.url,
                token=self.token,
                headers=self.headers,
                header_command=self.header_command,
                config_dir=self.global_config,
                ca_bundle=self.ca_bundle,
            )
        connection = self._with_timeouts(connection)
        self._connection = connection
        return connection

    def chats_client(self) -> ChatsClient:
        """A Chats (Coder Agents) client for the same deployment, built on first call."""
        if self._chats is None:
            from runner.coder.chats import ChatsClient

            self._chats = ChatsClient(self.connection(), http=self._transport())
        return self._chats

    def client(self) -> CoderClient:
        """The client for this invocation, connecting (or starting --sim) on first call.

        Prints the server's notices (e.g. deprecation) to stderr once.
        """
        if self._client is not None:
            return self._client
        from runner.coder.client import CoderClient

        self._client = CoderClient(self.connection(), http=self._transport())
        for notice in self._client.notices():
            click.echo(safe_text(f"notice: {notice}"), err=True)
        return self._client

    def _transport(self) -> ApiTransport:
        """The one transport of this invocation: both clients send through it, so one pacer
        keeps the rate limit and one debug log shows every request."""
        if self._http is None:
            from runner.coder.transport import ApiTransport

            on_debug = _debug_line if self.debug else None
            self._http = ApiTransport(self.connection(), on_debug=on_debug)
        return self._http

    def _with_timeouts(self, connection: Connection) -> Connection:
        """The connection with --request-timeout and --connect-timeout applied."""
        from runner.cli.options import parse_timeout

        if self.request_timeout is not None:
            seconds = parse_timeout(self.request_timeout, "--request-timeout")
            connection = dataclasses.replace(connection, request_timeout=seconds)
        if self.connect_timeout is not None:
            seconds = parse_timeout(self.connect_timeout, "--connect-timeout")
            connection = dataclasses.replace(connection, connect_timeout=seconds)
        return connection

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._chats is not None:
            self._chats.close()
            self._chats = None
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._sim_server is not None:
            self._sim_server.stop()
            self._sim_server = None


_DEBUG_LOCK = threading.Lock()


def _debug_line(line: str) -> None:
    from runner.secrets import redact

    # Parallel requests log from worker threads: one locked write keeps each line whole.
    text = safe_text(f"debug: {redact(line)}") + "\n"
    with _DEBUG_LOCK:
        sys.stderr.write(text)
        sys.stderr.flush()


def global_options(ctx: click.Context) -> GlobalOptions:
    """The GlobalOptions of the running `tasks` invocation."""
    obj = ctx.find_root().obj
    if not isinstance(obj, GlobalOptions):  # a subcommand invoked on its own, as in unit tests
        obj = GlobalOptions()
        ctx.find_root().obj = obj
    return obj
