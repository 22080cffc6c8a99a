"""`--var` and `--env`: the options of every command that loads a manifest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


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
        "--backend",
        type=click.Choice(["auto", "tasks", "chats"]),
        default="auto",
        show_default=True,
        expose_value=False,
        callback=_remember_backend,
        help="Run the batch on Coder Tasks, on Coder Agents (chats), or Tasks where served.",
    )(function)
    function = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a template variable {{ vars.KEY }}, overriding the manifest's vars. Repeatable.",
    )(function)
    return function


def _remember_backend(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta["tasks.backend"] = value
    return value


def chosen_backend(ctx: click.Context) -> str:
    """The `--backend` given (default `auto`)."""
    return str(ctx.meta.get("tasks.backend") or "auto")
