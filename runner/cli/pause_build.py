"""What `pause` and `resume` share: finding the task on a server that can pause, and the hidden
poll interval of the build they wait for."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.coder_help import coder_option
from runner.cli.context import global_options
from runner.cli.error_context import error_context

if TYPE_CHECKING:
    from runner.coder.client import CoderClient
    from runner.coder.models import Task

#: `--poll-interval`, hidden as in Coder's CLI.
build_poll_option = coder_option(
    "--poll-interval",
    default="1s",
    hidden=True,
    type_help="duration",
    description="How often to poll the task while its build runs. Only used in tests.",
)


def pausable_task(ctx: click.Context, identifier: str, action: str) -> tuple[CoderClient, Task]:
    """The client and the task `identifier` names, once the server is known to pause (v2.31.1+):
    an old server fails before anything is resolved."""
    client = global_options(ctx).client()
    client.require_pause_support(action)
    with error_context(f'resolve task "{identifier}"'):
        return client, client.resolve_task(identifier)
