"""`tasks delete`: delete tasks, as `coder task delete` does."""

from __future__ import annotations

from datetime import datetime

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import backend_option, confirm, yes_option
from runner.coder.client import CoderClient
from runner.coder.models import Task
from runner.render.safe_text import safe_text
from runner.render.times import go_stamp

EXAMPLES = (
    Example("Delete a single task.", "$ tasks delete task1"),
    Example("Delete multiple tasks.", "$ tasks delete task1 task2 task3"),
    Example("Delete a task without confirmation.", "$ tasks delete task4 --yes"),
)


@click.command(
    "delete",
    cls=CoderCommand,
    usage_args="<task> [<task> ...]",
    short="Delete tasks",
    aliases=("rm",),
    examples=EXAMPLES,
)
@click.argument("identifiers", metavar="<task> [<task> ...]", nargs=-1, required=True)
@yes_option()
@backend_option
@click.pass_context
def command(ctx: click.Context, identifiers: tuple[str, ...], yes: bool, backend: str) -> None:
    """Delete tasks."""
    client = choose_api(global_options(ctx), backend)
    if isinstance(client, CoderClient):
        _delete(client, identifiers, yes)
        return
    from runner.cli.chat_views import chat_delete

    chat_delete(client, identifiers, lambda text: confirm(text, yes=yes))


def _delete(client: CoderClient, identifiers: tuple[str, ...], yes: bool) -> None:
    """Coder's `task delete`: resolve every name first, confirm, delete."""
    # Every name is resolved before anything is deleted: one bad name deletes nothing.
    tasks: list[Task] = []
    for identifier in identifiers:
        with error_context(f'resolve task "{identifier}"'):
            task = client.resolve_task(identifier)
        # The same task named twice (name and UUID, or a repeat) is deleted once.
        if all(seen.id != task.id for seen in tasks):
            tasks.append(task)
    confirm(f"Delete these tasks: {', '.join(t.full_name for t in tasks)}?", yes=yes)
    for task in tasks:
        with error_context(f'delete task "{task.full_name}"'):
            client.delete_task(task)
        click.echo(
            safe_text(f"Deleted task {task.full_name} at {go_stamp(datetime.now().astimezone())}")
        )
