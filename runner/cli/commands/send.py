"""`tasks send`: send input to a task, as the GA `coder task send` does.

A paused task is resumed first (where the server can), a starting one is waited for, and the
input goes out only once the agent is idle; a busy reply is waited out, not a failure.
"""

from __future__ import annotations

import click

from runner.choice import choose_api
from runner.cli.coder_help import CoderCommand, Example, coder_option, stdin_option
from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import backend_option, parse_go_duration, read_stdin
from runner.coder.client import CoderClient
from runner.coder.models import Task
from runner.errors import AgentBusyError, InvalidInputError, TasksError
from runner.readiness import observations, settled_state, wait_until_active, wait_until_idle
from runner.render.safe_text import safe_text

EXAMPLES = (
    Example("Send direct input to a task", 'tasks send task1 "Please also add unit tests"'),
    Example(
        "Send input from stdin to a task",
        'echo "Please also add unit tests" | tasks send task1 --stdin',
    ),
)
DESCRIPTION = (
    "Send input to a task. If the task is paused, it will be automatically resumed before input "
    "is sent. If the task is initializing, it will wait for the task to become ready."
)


def _make_ready(client: CoderClient, task: Task, interval: float) -> Task:
    display = task.full_name
    if task.status == "active":
        return task
    if task.status == "paused":
        if not client.server.supports_pause:
            raise TasksError(
                f'task "{display}" is paused, and Coder {client.server.version} cannot resume '
                "tasks (pause and resume need v2.31.1 or newer)"
            )
        with error_context(f'resume task "{display}"'):
            client.resume_task(task)
    elif task.status not in ("pending", "initializing"):
        raise TasksError(f'task "{display}" has status {task.status} and cannot be sent input')
    with error_context(f'wait for task "{display}" to be ready'):
        return wait_until_active(client, client.get_task(task.id), interval)


@click.command(
    "send",
    cls=CoderCommand,
    usage_args="<task> [<input> | --stdin]",
    short="Send input to a task",
    description=DESCRIPTION,
    examples=EXAMPLES,
)
@click.argument("identifier", metavar="<task>")
@click.argument("text", metavar="[<input> | --stdin]", required=False)
@stdin_option("Reads the input from stdin.")
@coder_option(
    "--poll-interval",
    default="5s",
    hidden=True,
    type_help="duration",
    description="How often to poll the task while waiting for it. Only used in tests.",
)
@backend_option
@click.pass_context
def command(
    ctx: click.Context,
    identifier: str,
    text: str | None,
    use_stdin: bool,
    poll_interval: str,
    backend: str,
) -> None:
    """Send input to a task."""
    interval = parse_go_duration(poll_interval, flag="--poll-interval")
    if use_stdin:
        text = read_stdin()
    elif text is None:
        raise InvalidInputError("expected an input for the task")
    if not text:
        raise InvalidInputError("a task cannot be sent an empty input")
    client = choose_api(global_options(ctx), backend)
    if isinstance(client, CoderClient):
        _send(client, identifier, text, interval)
        return
    from runner.cli.chat_views import chat_send

    chat_send(client, identifier, text)


def _send(client: CoderClient, identifier: str, text: str, interval: float) -> None:
    """Coder's `task send`: resolve, make ready, wait for idle, send (a busy reply waits)."""
    with error_context("resolve task"):
        task = client.resolve_task(identifier)
    display = task.full_name
    if not settled_state(task):
        # Waiting can take minutes; say so, on stderr so stdout stays clean for scripts.
        click.echo(safe_text(f'Waiting for task "{display}" to become idle...'), err=True)
    task = _make_ready(client, task, interval)
    task_id = task.id
    # A busy answer: the agent started working between our poll and the send; wait again.
    for seen in observations(task, lambda: client.get_task(task_id), interval):
        with error_context(f'wait for task "{display}" to be idle'):
            idle = wait_until_idle(client, seen, interval)
        try:
            with error_context(f'send input to task "{display}"'):
                client.send_input(idle, text)
            return
        except AgentBusyError:
            continue
