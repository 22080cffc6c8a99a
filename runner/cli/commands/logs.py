"""`tasks logs`: show a task's logs, as `coder task logs` does (snapshots included)."""

from __future__ import annotations

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import backend_option, column_option, output_option
from runner.coder.client import CoderClient
from runner.coder.models import Task, TaskLogs
from runner.render.json_output import go_json
from runner.render.safe_text import safe_text
from runner.render.task_tables import LOG_COLUMNS, LOG_DEFAULT_COLUMNS, log_table

EXAMPLES = (Example("Show logs for a given task.", "tasks logs task1"),)


def snapshot_warnings(task: Task, logs: TaskLogs) -> list[str]:
    """The WARN lines Coder prints on stderr for a stored snapshot (paused or starting tasks)."""
    if not logs.snapshot:
        return []
    warnings = []
    if logs.snapshot_at is None:
        warnings.append(
            f"Task is {task.status}. No snapshot available (snapshot may have failed during "
            "pause, resume your task to view logs)."
        )
    count = len(logs.entries)
    if count == 1:
        warnings.append(f"Task is {task.status}. Showing last 1 message from snapshot.")
    elif count > 1:
        warnings.append(f"Task is {task.status}. Showing last {count} messages from snapshot.")
    return warnings


@click.command(
    "logs", cls=CoderCommand, usage_args="<task>", short="Show a task's logs", examples=EXAMPLES
)
@click.argument("identifier", metavar="<task>")
@column_option(LOG_COLUMNS, LOG_DEFAULT_COLUMNS)
@output_option()
@backend_option
@click.pass_context
def command(
    ctx: click.Context, identifier: str, columns: tuple[str, ...], output: str, backend: str
) -> None:
    """Show a task's logs."""
    client = choose_api(global_options(ctx), backend)
    if not isinstance(client, CoderClient):
        from runner.cli.chat_views import chat_logs

        chat_logs(client, identifier, output=output)
        return
    with error_context(f'resolve task "{identifier}"'):
        task = client.resolve_task(identifier)
    with error_context("get task logs"):
        logs = client.get_logs(task)
    for warning in snapshot_warnings(task, logs):
        # Coder's message ends in a newline and Warnf adds one: a blank line follows.
        click.echo(safe_text(f"WARN: {warning}\n"), err=True)
    if not logs.entries:
        click.echo("No task logs found.", err=True)
        return
    if output == "json":
        click.echo(go_json([dict(entry.raw) for entry in logs.entries]))
    else:
        click.echo(log_table(logs.entries, columns))
