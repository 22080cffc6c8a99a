"""The check pause, resume and their callers share: the server must be v2.31.1 or newer."""

from __future__ import annotations

from runner.coder.client import CoderClient
from runner.errors import UnsupportedServerError


def require_pause_support(client: CoderClient, action: str) -> None:
    """Raise a plain error when the deployment predates pause/resume (v2.31.1)."""
    server = client.server
    if not server.supports_pause:
        raise UnsupportedServerError(
            f"cannot {action} tasks on Coder {server.version}: "
            "pause and resume need Coder v2.31.1 or newer"
        )
