"""`tasks status`: show a task's status, and with --watch follow it, as `coder task status` does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example, coder_option
from runner.cli.context import global_options
from runner.cli.options import backend_option, column_option, output_option, parse_go_duration
from runner.coder.client import CoderClient
from runner.coder.models import Task
from runner.errors import NotFoundError, TaskNotFoundError
from runner.readiness import observations, watch_finished
from runner.render.json_output import go_json
from runner.render.task_tables import STATUS_COLUMNS, STATUS_DEFAULT_COLUMNS, task_table

EXAMPLES = (
    Example("Show the status of a given task.", "tasks status task1"),
    Example(
        "Watch the status of a given task until it completes (idle or stopped).",
        "tasks status task1 --watch",
    ),
)


def _row_key(task: Task) -> tuple[str, bool, str, str]:
    # Coder prints a new row only when one of these changed.
    state = task.current_state
    return (task.status, task.healthy, state.state if state else "", state.message if state else "")


def _render(task: Task, columns: Sequence[str], output: str, *, header: bool) -> str:
    if output == "json":
        return go_json(dict(task.raw))
    table = task_table([task], columns, datetime.now(timezone.utc), fall_back_to_updated=True)
    return table if header else table.split("\n", 1)[1]


def _poll(client: CoderClient, task: Task) -> Task:
    # A 404 mid-watch almost always means the task was deleted meanwhile: say so.
    try:
        return client.get_task(task.id)
    except NotFoundError as error:
        raise TaskNotFoundError(
            f'task "{task.full_name}" is gone (deleted while being watched?): {error.api_message}'
        ) from None


@click.command(
    "status",
    cls=CoderCommand,
    short="Show the status of a task.",
    aliases=("stat",),
    examples=EXAMPLES,
)
@click.argument("identifier", metavar="<task>")
@column_option(STATUS_COLUMNS, STATUS_DEFAULT_COLUMNS)
@output_option()
@coder_option(
    "--watch",
    is_flag=True,
    type_help="bool",
    default_help="false",
    description="Watch the task status output. This will stream updates to the terminal until "
    "the underlying workspace is stopped.",
)
@coder_option(
    "--watch-interval",
    default="1s",
    hidden=True,
    type_help="duration",
    default_help="1s",
    description="Interval to poll the task for updates. Only used in tests.",
)
@backend_option
@click.pass_context
def command(
    ctx: click.Context,
    identifier: str,
    columns: tuple[str, ...],
    output: str,
    watch: bool,
    watch_interval: str,
    backend: str,
) -> None:
    """Show the status of a task."""
    interval = parse_go_duration(watch_interval, flag="--watch-interval")
    client = choose_api(global_options(ctx), backend)
    if not isinstance(client, CoderClient):
        from runner.cli.chat_views import chat_status

        chat_status(client, identifier, output=output)
        return
    task = client.resolve_task(identifier)
    click.echo(_render(task, columns, output, header=True))
    if not watch or watch_finished(task):
        return
    last = _row_key(task)
    polls = observations(task, lambda: _poll(client, task), interval)
    next(polls)  # the first row is shown above
    for seen in polls:
        if _row_key(seen) != last:
            click.echo(_render(seen, columns, output, header=False))
        if watch_finished(seen):
            return
        last = _row_key(seen)
