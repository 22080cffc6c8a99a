"""`tasks list`: list tasks, as `coder task list` does."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example, coder_option
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import backend_option, column_option, label_option, output_option
from runner.coder.client import CoderClient
from runner.coder.models import TASK_STATUSES
from runner.errors import InvalidInputError
from runner.render.json_output import go_json
from runner.render.safe_text import safe_text
from runner.render.task_tables import LIST_DEFAULT_COLUMNS, TASK_COLUMNS, task_table

EXAMPLES = (
    Example("List tasks for the current user.", "tasks list"),
    Example("List tasks for a specific user.", "tasks list --user someone-else"),
    Example("List all tasks you can view.", "tasks list --all"),
    Example("List all your running tasks.", "tasks list --status running"),
    Example("As above, but only show IDs.", "tasks list --status running --quiet"),
)


#: Coder's own help examples say `--status running`, which is not a task status; the tasks they
#: mean are the `active` ones, so the example works here.
STATUS_ALIASES = {"running": "active"}


def _status_choice(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # Validated here, as Coder's CLI does, so a typo never reaches the server.
    if value is None or value == "":
        return None
    value = STATUS_ALIASES.get(value, value)
    if value not in TASK_STATUSES:
        raise click.BadParameter(
            f"{value!r} is not a task status; choose from {'|'.join(TASK_STATUSES)}"
        )
    return value


@click.command("list", cls=CoderCommand, short="List tasks", aliases=("ls",), examples=EXAMPLES)
@coder_option(
    "-a",
    "--all",
    "all_users",
    is_flag=True,
    type_help="bool",
    default_help="false",
    help_name="all",
    description="List tasks for all users you can view.",
)
@column_option(TASK_COLUMNS, LIST_DEFAULT_COLUMNS)
@output_option()
@coder_option(
    "-q",
    "--quiet",
    is_flag=True,
    type_help="bool",
    default_help="false",
    description="Only display task IDs.",
)
@coder_option(
    "--status",
    callback=_status_choice,
    type_help="|".join(TASK_STATUSES),
    description="Filter by task status.",
)
@coder_option(
    "--user",
    default="",
    type_help="string",
    description='List tasks for the specified user (username, "me").',
)
@backend_option
@label_option("Chats: only chats carrying this label. Repeatable (all must match).")
@click.pass_context
def command(
    ctx: click.Context,
    all_users: bool,
    columns: tuple[str, ...],
    output: str,
    quiet: bool,
    status: str | None,
    user: str,
    backend: str,
    labels: dict[str, str],
) -> None:
    """List tasks."""
    owner: str | None = user.strip()
    if not owner:
        # `--user` wins over `--all`; with neither, the caller's own tasks.
        owner = None if all_users else "me"
    api = choose_api(global_options(ctx), backend)
    if not isinstance(api, CoderClient):
        from runner.cli.chat_views import list_chats

        list_chats(api, output=output, quiet=quiet, labels=labels)
        return
    if labels:
        raise InvalidInputError("--label filters chats (Coder Agents); Coder Tasks carry no labels")
    with error_context("list tasks"):
        tasks = api.list_tasks(owner=owner, status=status)
    if quiet:
        for task in tasks:
            click.echo(safe_text(task.id))
        return
    if output == "json":
        click.echo(go_json([dict(task.raw) for task in tasks]))
        return
    if not tasks:
        click.echo("No tasks found.", err=True)
        return
    now = datetime.now(timezone.utc)
    click.echo(task_table(tasks, columns, now, fall_back_to_updated=False))
