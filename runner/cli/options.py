"""Options and argument helpers shared by the commands (no command module imports another)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from runner import durations
from runner.cli.coder_help import coder_option
from runner.errors import InvalidInputError, TasksError
from runner.render.safe_text import safe_text

F = TypeVar("F", bound=Callable[..., Any])

OUTPUT_FORMATS = ("table", "json")


def normalize_column(value: str) -> str:
    """Coder matches columns case-insensitively and accepts `_` for spaces."""
    return value.strip().replace("_", " ").lower()


def column_option(columns: Sequence[str], defaults: Sequence[str]) -> Callable[[F], F]:
    """`-c/--column` with Coder's enum-array help; values are comma-separated or repeated."""

    def parse(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> tuple[str, ...]:
        chosen: list[str] = []
        for value in values:
            for part in value.split(","):
                column = normalize_column(part)
                if column not in columns:
                    raise InvalidInputError(
                        f"invalid value {part.strip()!r} for --column: "
                        f"choose from {', '.join(columns)}"
                    )
                chosen.append(column)
        return tuple(chosen) or tuple(defaults)

    return coder_option(
        "-c",
        "--column",
        "columns",
        multiple=True,
        callback=parse,
        type_help="[" + "|".join(columns) + "]",
        default_help=",".join(defaults),
        description="Columns to display in table output.",
    )


def output_option() -> Callable[[F], F]:
    """`-o/--output table|json`."""
    return coder_option(
        "-o",
        "--output",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        type_help="table|json",
        default_help="table",
        description="Output format.",
    )


def yes_option() -> Callable[[F], F]:
    """`-y/--yes`: skip confirmation prompts."""
    return coder_option(
        "-y",
        "--yes",
        is_flag=True,
        type_help="bool",
        description="Bypass confirmation prompts.",
    )


def manifest_input_options(function: F) -> F:
    """Add `--var KEY=VALUE` (as `variables`) and `--env NAME` (as `env_names`)."""
    function = click.option(
        "--env",
        "env_names",
        multiple=True,
        metavar="NAME",
        help="Let templates read this environment variable as {{ env.NAME }}. Repeatable.",
    )(function)
    function = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a template variable {{ vars.KEY }}, overriding the manifest's vars. Repeatable.",
    )(function)
    return function


def backend_option(function: F) -> F:
    """Add `--backend auto|tasks|chats` (as `backend`), the choice `runner.choice` makes.

    A plain click option: the task commands' help stays Coder's own, byte for byte.
    """
    from runner.manifest.model import BACKENDS

    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="auto",
        show_default=True,
        help="The Coder API to run on: tasks, chats (Coder Agents), or auto (Tasks where the "
        "server serves them, Chats otherwise). Overrides a manifest's defaults.backend.",
    )(function)


def _labels(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    # Coder splits a filter at its first separator, so a value may hold `=` (CHATS-CONTRACT 2).
    labels: dict[str, str] = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key or not wanted:
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE")
        labels[key] = wanted
    return labels


def label_option(help_text: str) -> Callable[[F], F]:
    """`--label KEY=VALUE` (repeatable, as `labels`: a dict), a plain option."""
    return click.option(
        "--label", "labels", multiple=True, metavar="KEY=VALUE", callback=_labels, help=help_text
    )


def model_option(function: F) -> F:
    """Add `--model NAME` (as `model`): a chat model config's name, display name or ID."""
    return click.option(
        "--model",
        metavar="MODEL",
        help="Chats: the model every task runs on (a model's name, display name or ID; "
        "`tasks models` lists them). Overrides the manifest's `model`.",
    )(function)


@dataclass(frozen=True)
class BatchFlags:
    """The batch flags of `plan`, `apply` and `destroy`, passed to the command as `flags`."""

    variables: tuple[str, ...]
    env_names: tuple[str, ...]
    backend: str
    model: str | None = None  # plan and apply only, as are the three below
    targets: tuple[str, ...] = ()
    replace: bool = False
    prune: bool = False


@dataclass(frozen=True)
class RunFlags:
    """The run flags of `apply` and `destroy`, passed to the command as `run`."""

    yes: bool
    parallelism: int
    report_path: str | None
    junit_path: str | None


def _gather(kind: type[Any], name: str) -> Callable[[F], F]:
    """Hand the command the flags click parsed for `kind`'s fields as one argument `name`."""
    names = [field.name for field in fields(kind)]

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def command(*args: Any, **kwargs: Any) -> Any:
            given = {key: kwargs.pop(key) for key in names if key in kwargs}
            return function(*args, **{name: kind(**given)}, **kwargs)

        return cast(F, command)

    return decorate


_gather_batch_flags = _gather(BatchFlags, "flags")


def batch_flags(function: F) -> F:
    """--var, --env and --backend, as `flags` (destroy)."""
    return manifest_input_options(backend_option(_gather_batch_flags(function)))


def plan_flags(function: F) -> F:
    """--var, --env, --backend, --model, --target, --replace and --prune, as `flags` (plan and
    apply)."""
    decorators = [
        model_option,
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="NAME",
            help="Limit the plan to this task of the batch. Repeatable.",
        ),
        click.option(
            "--replace",
            is_flag=True,
            help="Delete and re-create drifted tasks (prompt, template or pinned version).",
        ),
        click.option(
            "--prune",
            is_flag=True,
            help="Delete tasks this batch owns that are no longer in the manifest.",
        ),
    ]
    function = _gather_batch_flags(function)
    for decorator in reversed(decorators):
        function = decorator(function)
    return manifest_input_options(backend_option(function))


def format_option(formats: Sequence[str], help_text: str) -> Callable[[F], F]:
    """`-o/--output` of the batch commands: a plain option, the first format the default."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(formats),
        default=formats[0],
        show_default=True,
        help=help_text,
    )


def run_options(function: F) -> F:
    """--yes, --parallelism, --report, --junit, as `run` (apply and destroy)."""
    from runner import defaults

    decorators = [
        click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation."),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=defaults.PARALLELISM,
            show_default=True,
            help="Requests in flight at once. Coder's rate limit (512 requests/minute per "
            "route by default) is kept by pacing on its rate-limit headers, whatever this is.",
        ),
        click.option("--report", "report_path", metavar="FILE", help="Write results as JSON."),
        click.option("--junit", "junit_path", metavar="FILE", help="Write results as JUnit XML."),
    ]
    function = _gather(RunFlags, "run")(function)
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def parse_go_duration(text: str, *, flag: str) -> float:
    """Seconds in a Go duration such as `1s`, `250ms` or `1m30s` (the one grammar)."""
    try:
        return durations.parse(text)
    except ValueError:
        raise InvalidInputError(
            f"invalid duration {text!r} for {flag} (e.g. 1s, 500ms, 1m30s)"
        ) from None


def parse_timeout(text: str, flag: str) -> float:
    """A positive timeout: a Go duration (`90s`, `2m`) or plain seconds (`90`)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = parse_go_duration(text, flag=flag)
    if not seconds > 0 or seconds == float("inf"):
        raise InvalidInputError(f"invalid {flag} {text!r}: expected a positive duration, e.g. 30s")
    return seconds


def stdin_is_terminal() -> bool:
    """Whether stdin is an interactive terminal (prompts and piped input depend on it)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def read_stdin() -> str:
    """All of stdin, as text."""
    return sys.stdin.read() if sys.stdin is not None else ""


def confirm(text: str, *, yes: bool) -> None:
    """Coder's confirm prompt: `> <text> (yes/no) `, which needs `yes` (or `y`).

    Skipped with --yes. Without --yes on a non-terminal stdin nothing is asked and the command
    refuses, so a script never hangs on a prompt or deletes on a stray line of input.
    """
    if yes:
        return
    if not stdin_is_terminal():
        raise InvalidInputError(f"{text} Refusing to ask without a terminal; pass --yes to confirm")
    click.echo(safe_text(f"> {text} (yes/no) "), nl=False)
    answer = sys.stdin.readline().rstrip("\r\n") or "no"
    if answer not in ("yes", "y"):
        raise TasksError(f'got "{answer}": canceled')


def check_writable(path: str | None, flag: str) -> None:
    """Fail before any work when `path` (an output file) could not be written.

    Checked up front so a typo in an output path costs nothing: no request is sent.
    """
    if not path:
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInputError(f"{flag} {path}: is a directory")
    if not parent.is_dir():
        raise InvalidInputError(f"{flag} {path}: directory {str(parent)!r} does not exist")
    if not os.access(target if target.exists() else parent, os.W_OK):
        raise InvalidInputError(f"{flag} {path}: not writable")
