"""The `tasks` command: global options, lazy subcommands, and the one place errors are rendered.

Subcommands live in `runner.cli.commands.<module>` and are imported only when invoked, so an
imperative command never pays for jinja2, jsonschema or yaml.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from typing import Any

import click

from runner import __version__, defaults
from runner.cli.context import GlobalOptions
from runner.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, EXIT_OK, TasksError
from runner.render.safe_text import safe_text
from runner.secrets import redact
from runner.signals import Terminated, received, stop_like_ctrl_c

#: name -> (module under runner.cli.commands, short help). Aliases map to the same module.
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("apply", "Converge the deployment to a batch manifest."),
    "create": ("create", "Create a task"),
    "delete": ("delete", "Delete tasks"),
    "destroy": ("destroy", "Delete every task a batch owns."),
    "list": ("list", "List tasks"),
    "logs": ("logs", "Show a task's logs"),
    "models": ("models", "List the chat models (Coder Agents) you may use."),
    "pause": ("pause", "Pause a task"),
    "plan": ("plan", "Show what `apply` would change."),
    "render": ("render", "Print a manifest's expanded tasks."),
    "resume": ("resume", "Resume a task"),
    "schema": ("schema", "Print the batch manifest JSON Schema."),
    "send": ("send", "Send input to a task"),
    "sim": ("sim", "Serve a simulated Coder deployment."),
    "status": ("status", "Show the status of a task."),
    "validate": ("validate", "Check batch manifests and report every error."),
}
ALIASES = {"ls": "list", "rm": "delete", "stat": "status"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = ALIASES.get(cmd_name, cmd_name)
        if name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[name]
        module = importlib.import_module(f"runner.cli.commands.{module_name}")
        command: click.Command = module.command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            # click only says the command does not exist; a near miss is usually a typo.
            close = difflib.get_close_matches(name, [*COMMANDS, *ALIASES], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table above, so `tasks --help` imports no subcommand.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="CODER_URL", help="URL of the Coder deployment. [env: CODER_URL]")
@click.option(
    "--token",
    envvar="CODER_SESSION_TOKEN",
    help="Session token for the deployment. [env: CODER_SESSION_TOKEN]",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    help="Extra HTTP header as key=value, repeatable. [env: CODER_HEADER, comma-separated]",
)
@click.option(
    "--header-command",
    envvar="CODER_HEADER_COMMAND",
    help="Command whose output lines are extra key=value headers. [env: CODER_HEADER_COMMAND]",
)
@click.option(
    "--global-config",
    envvar="CODER_CONFIG_DIR",
    help="Coder CLI config directory with `url` and `session`. [env: CODER_CONFIG_DIR]",
)
@click.option(
    "--ca-bundle",
    envvar="TASKS_CA_BUNDLE",
    help="PEM file of CA certificates for a deployment behind a private CA. "
    "[env: TASKS_CA_BUNDLE, else SSL_CERT_FILE]",
)
@click.option(
    "--sim",
    is_flag=True,
    help="Run against a fresh simulated Coder deployment in this process.",
)
@click.option(
    "--sim-version",
    envvar="TASKS_SIM_VERSION",
    default=defaults.SIM_CODER_VERSION,
    show_default=True,
    help="Coder version the --sim deployment behaves as. [env: TASKS_SIM_VERSION]",
)
@click.option(
    "--request-timeout",
    envvar="TASKS_REQUEST_TIMEOUT",
    metavar="DURATION",
    help="Deadline for each HTTP request, response body included (default 60s). "
    "[env: TASKS_REQUEST_TIMEOUT]",
)
@click.option(
    "--connect-timeout",
    envvar="TASKS_CONNECT_TIMEOUT",
    metavar="DURATION",
    help="Deadline for opening a connection (default 10s). [env: TASKS_CONNECT_TIMEOUT]",
)
@click.option("--debug", is_flag=True, help="Log every HTTP request to stderr, token redacted.")
@click.version_option(__version__, "--version", prog_name="tasks")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Declarative batches and imperative commands for Coder Tasks."""
    ctx.obj = GlobalOptions.from_click(options)
    ctx.call_on_close(ctx.obj.close)


#: click >= 8.2 raises this for a group run without arguments; older click exits with the help.
_NO_ARGS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into one exit code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run `tasks` with `argv`; render errors once; return the exit code."""
    try:
        with stop_like_ctrl_c():
            result = cli.main(args=argv, prog_name="tasks", standalone_mode=False)
    except click.exceptions.Abort:  # click's word for a KeyboardInterrupt it caught
        click.echo("Aborted!", err=True)
        stopped_by = received()
        return EXIT_INTERRUPTED if stopped_by is None else 128 + stopped_by
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.UsageError as usage:
        if isinstance(usage, _NO_ARGS_HELP) and usage.ctx is not None:
            # `tasks` alone asks for nothing wrong: the help on stdout, as Coder's CLI does.
            click.echo(usage.ctx.get_help())
            return EXIT_OK
        # One line like every other error, naming the command: `error: tasks validate: …`.
        where = usage.ctx.command_path if usage.ctx is not None else "tasks"
        click.echo(safe_text(f"error: {where}: {usage.format_message()}"), err=True)
        return EXIT_INVALID_INPUT
    except click.ClickException as usage:
        click.echo(safe_text(f"Error: {usage.format_message()}"), err=True)
        return EXIT_INVALID_INPUT if usage.exit_code == 2 else usage.exit_code
    except TasksError as error:
        _render_error(error)
        return error.exit_code
    except KeyboardInterrupt as stop:
        click.echo("Interrupted.", err=True)
        return stop.exit_code if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as bug:  # the one place a bug becomes a message
        click.echo(safe_text(f"error: unexpected {type(bug).__name__}: {bug}"), err=True)
        click.echo("This is a bug in tasks; run with --debug and report it.", err=True)
        return EXIT_ERROR
    return result if isinstance(result, int) else 0


def _render_error(error: TasksError) -> None:
    # Messages and details quote the server (Coder's `message`, `detail`, validations).
    click.echo(safe_text(f"error: {redact(error.message)}"), err=True)
    for line in error.details:
        click.echo(safe_text(f"  {redact(line)}"), err=True)
