"""`--var` and `--env` (every command that loads a manifest), and `--backend`."""

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
        "--var",
        "variables",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set a template variable {{ vars.KEY }}, overriding the manifest's vars. Repeatable.",
    )(function)
    return function


def backend_option(function: F) -> F:
    """Add `--backend auto|tasks|chats` (as `backend`); it overrides the manifest's choice."""
    from runner.manifest.model import BACKENDS

    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="auto",
        show_default=True,
        help="The Coder API to run on: tasks, chats (Coder Agents), or auto (Tasks where the "
        "server serves them, Chats otherwise). Overrides the manifest's defaults.backend.",
    )(function)
