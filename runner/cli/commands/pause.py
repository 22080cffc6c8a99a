"""`tasks pause`: pause a task (stop its workspace), as `coder task pause` does (v2.31.1+)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from runner.cli.pause_build import change_task, task_state_command
from runner.errors import TasksError
from runner.render.safe_text import safe_text
from runner.render.times import go_stamp

if TYPE_CHECKING:
    from runner.coder.models import Task


@task_state_command("pause")
def command(ctx: click.Context, identifier: str, yes: bool, poll_interval: str) -> None:
    """Pause a task."""
    task = change_task(
        ctx, identifier, "pause", yes=yes, poll_interval=poll_interval, refuse=_refuse
    )
    click.echo(
        safe_text(
            f"\nThe {task.name} task has been paused at {go_stamp(datetime.now().astimezone())}!"
        )
    )


def _refuse(task: Task) -> None:
    if task.status == "paused":
        raise TasksError(f'task "{task.full_name}" is already paused')
