"""`tasks resume`: resume a paused task, as `coder task resume` does (v2.31.1+)."""

from __future__ import annotations

import click

from runner.cli.coder_help import CoderCommand, Example, coder_option
from runner.cli.error_context import error_context
from runner.cli.options import confirm, parse_go_duration, yes_option
from runner.cli.pause_build import build_poll_option, pausable_task
from runner.errors import TasksError
from runner.readiness import wait_for_workspace
from runner.render.safe_text import safe_text

EXAMPLES = (
    Example("Resume a task by name", "tasks resume my-task"),
    Example("Resume another user's task", "tasks resume alice/my-task"),
    Example("Resume a task without confirmation", "tasks resume my-task --yes"),
)


@click.command(
    "resume", cls=CoderCommand, usage_args="<task>", short="Resume a task", examples=EXAMPLES
)
@click.argument("identifier", metavar="<task>")
@coder_option(
    "--no-wait",
    is_flag=True,
    type_help="bool",
    help_name="no-wait",
    description="Return immediately after resuming the task.",
)
@yes_option()
@build_poll_option
@click.pass_context
def command(
    ctx: click.Context, identifier: str, no_wait: bool, yes: bool, poll_interval: str
) -> None:
    """Resume a task."""
    interval = parse_go_duration(poll_interval, flag="--poll-interval")
    client, task = pausable_task(ctx, identifier, "resume")
    display = task.full_name
    if task.status in ("error", "unknown"):
        raise TasksError(
            f'task "{display}" is in {task.status} state and cannot be resumed; check the '
            "workspace build logs and agent status for details"
        )
    if task.status != "paused":
        raise TasksError(f'task "{display}" cannot be resumed (current status: {task.status})')
    confirm(f"Resume task {display}?", yes=yes)
    with error_context(f'resume task "{display}"'):
        client.resume_task(task)
    if no_wait:
        click.echo(safe_text(f'Resuming task "{display}" in the background.'))
        return
    with error_context(f'watch resume build for task "{display}"'):
        wait_for_workspace(client, client.get_task(task.id), "running", interval)
    click.echo(safe_text(f"\nThe {display} task has been resumed."))
