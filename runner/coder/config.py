"""Where the deployment URL and token come from.

INTERFACE SKELETON: `Connection` is fixed; `resolve_connection` is filled in by the client
implementation.

Order: explicit flags, then `CODER_URL`/`CODER_SESSION_TOKEN`, then the Coder CLI's config
directory (`url` and `session` files), so anyone who ran `coder login` needs nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Connection:
    """How to reach one deployment."""

    url: str
    token: str
    headers: tuple[tuple[str, str], ...] = ()
    ca_bundle: str | None = None
    simulated: bool = False

    def __repr__(self) -> str:  # never show the token
        return f"Connection(url={self.url!r}, simulated={self.simulated})"


def resolve_connection(
    *,
    url: str | None,
    token: str | None,
    headers: Sequence[str] = (),
    header_command: str | None = None,
    config_dir: str | None = None,
    ca_bundle: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Build a Connection from flags, environment and the Coder CLI config directory.

    Raises ConfigError naming every way to configure (flags, env vars, `coder login`, `--sim`)
    when no URL can be found.
    """
    raise NotImplementedError
