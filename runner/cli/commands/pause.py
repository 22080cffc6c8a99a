"""`tasks pause`: pause a task (stop its workspace), as `coder task pause` does (v2.31.1+)."""

from __future__ import annotations

from datetime import datetime

import click

from runner.cli.coder_help import CoderCommand, Example
from runner.cli.error_context import error_context
from runner.cli.options import confirm, parse_go_duration, yes_option
from runner.cli.pause_build import build_poll_option, pausable_task
from runner.errors import TasksError
from runner.readiness import wait_for_workspace
from runner.render.safe_text import safe_text
from runner.render.times import go_stamp

EXAMPLES = (
    Example("Pause a task by name", "tasks pause my-task"),
    Example("Pause another user's task", "tasks pause alice/my-task"),
    Example("Pause a task without confirmation", "tasks pause my-task --yes"),
)


@click.command(
    "pause", cls=CoderCommand, usage_args="<task>", short="Pause a task", examples=EXAMPLES
)
@click.argument("identifier", metavar="<task>")
@yes_option()
@build_poll_option
@click.pass_context
def command(ctx: click.Context, identifier: str, yes: bool, poll_interval: str) -> None:
    """Pause a task."""
    interval = parse_go_duration(poll_interval, flag="--poll-interval")
    client, task = pausable_task(ctx, identifier, "pause")
    display = task.full_name
    if task.status == "paused":
        raise TasksError(f'task "{display}" is already paused')
    confirm(f"Pause task {display}?", yes=yes)
    with error_context(f'pause task "{display}"'):
        client.pause_task(task)
    with error_context(f'watch pause build for task "{display}"'):
        wait_for_workspace(client, client.get_task(task.id), "stopped", interval)
    click.echo(
        safe_text(
            f"\nThe {task.name} task has been paused at {go_stamp(datetime.now().astimezone())}!"
        )
    )
