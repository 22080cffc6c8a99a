"""Clean-up once a task's outcome is final (`after: stop | remove`): what both backends share.

A stop or delete build is refused with 409 while another build of the workspace runs (Coder's
`postWorkspaceBuilds` and `pauseTask`), e.g. a start build still finishing; such a refusal is
waited out for a while, as archiving waits out a chat still interrupting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from runner.errors import ConflictError
from runner.readiness import retry_refused

T = TypeVar("T")

#: How long a clean-up request is asked again while a build of its workspace runs.
PATIENCE_SECONDS = 15.0
RETRY_SECONDS = 0.5
#: Workspace states in which a stop (or a delete) is already under way or done.
STOPPED_WORKSPACE = frozenset({"stopping", "stopped", "deleting", "deleted"})
#: What `clean_up` reports it did.
STOPPED = "stopped"
REMOVED = "removed"


def while_building(request: Callable[[], T], *, patience: float = PATIENCE_SECONDS) -> T:
    """`request()`, asked again while it is refused with 409 (a build still running)."""
    return retry_refused(
        request,
        lambda error: isinstance(error, ConflictError),
        patience=patience,
        interval=RETRY_SECONDS,
    )
