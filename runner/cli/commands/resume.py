"""`tasks resume`: resume a paused task, as `coder task resume` does (v2.31.1+)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.coder_help import coder_option
from runner.cli.pause_build import change_task, task_state_command
from runner.errors import TasksError
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.coder.models import Task


@task_state_command("resume")
@coder_option(
    "--no-wait",
    is_flag=True,
    type_help="bool",
    help_name="no-wait",
    description="Return immediately after resuming the task.",
)
def command(
    ctx: click.Context, identifier: str, no_wait: bool, yes: bool, poll_interval: str
) -> None:
    """Resume a task."""
    task = change_task(
        ctx,
        identifier,
        "resume",
        yes=yes,
        poll_interval=poll_interval,
        refuse=_refuse,
        wait=not no_wait,
    )
    display = task.full_name
    if no_wait:
        click.echo(safe_text(f'Resuming task "{display}" in the background.'))
    else:
        click.echo(safe_text(f"\nThe {display} task has been resumed."))


def _refuse(task: Task) -> None:
    display = task.full_name
    if task.status in ("error", "unknown"):
        raise TasksError(
            f'task "{display}" is in {task.status} state and cannot be resumed; check the '
            "workspace build logs and agent status for details"
        )
    if task.status != "paused":
        raise TasksError(f'task "{display}" cannot be resumed (current status: {task.status})')
