"""What `pause` and `resume` share: finding the task on a server that can pause, asking, the
request, and waiting for its build (with the hidden poll interval of that wait)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import click

from runner.cli.coder_help import CoderCommand, Example, coder_option
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import confirm, parse_go_duration, yes_option
from runner.readiness import wait_for_workspace

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


def task_state_command(action: Literal["pause", "resume"]) -> Callable[..., click.Command]:
    """`tasks pause|resume <task>` with Coder's help and examples, `--yes` and the hidden
    `--poll-interval`; the function gets the context first."""
    verb = action.capitalize()
    examples = (
        Example(f"{verb} a task by name", f"tasks {action} my-task"),
        Example(f"{verb} another user's task", f"tasks {action} alice/my-task"),
        Example(f"{verb} a task without confirmation", f"tasks {action} my-task --yes"),
    )

    def decorate(function: Callable[..., Any]) -> click.Command:
        function = build_poll_option(yes_option()(click.pass_context(function)))
        return click.command(
            action,
            cls=CoderCommand,
            usage_args="<task>",
            short=f"{verb} a task",
            examples=examples,
        )(click.argument("identifier", metavar="<task>")(function))

    return decorate


def pausable_task(ctx: click.Context, identifier: str, action: str) -> tuple[CoderClient, Task]:
    """The client and the task `identifier` names, once the server is known to pause (v2.31.1+):
    an old server fails before anything is resolved."""
    client = global_options(ctx).client()
    client.require_pause_support(action)
    with error_context(f'resolve task "{identifier}"'):
        return client, client.resolve_task(identifier)


def change_task(
    ctx: click.Context,
    identifier: str,
    action: Literal["pause", "resume"],
    *,
    yes: bool,
    poll_interval: str,
    refuse: Callable[[Task], None],
    wait: bool = True,
) -> Task:
    """Pause or resume the task `identifier` names once `refuse` lets it and the user confirms,
    then (with `wait`) wait for its workspace to stop or run; the task as it was found."""
    interval = parse_go_duration(poll_interval, flag="--poll-interval")
    client, task = pausable_task(ctx, identifier, action)
    refuse(task)
    display = task.full_name
    confirm(f"{action.capitalize()} task {display}?", yes=yes)
    with error_context(f'{action} task "{display}"'):
        (client.pause_task if action == "pause" else client.resume_task)(task)
    if wait:
        with error_context(f'watch {action} build for task "{display}"'):
            state = "stopped" if action == "pause" else "running"
            wait_for_workspace(client, client.get_task(task.id), state, interval)
    return task
