"""`tasks plan FILE`: show what `apply` would change; the flags `apply` shares with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner.cli.context import global_options
from runner.cli.options import backend_option, check_writable, manifest_input_options
from runner.errors import EXIT_CHANGES_PENDING, EXIT_OK, TasksError
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.batch import Prepared, Source
    from runner.plan import PlanOptions

F = TypeVar("F", bound=Callable[..., Any])


def manifest_options(func: F) -> F:
    """--var, --env, --target, --replace and --prune (shared by plan and apply)."""
    decorators = [
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
    for decorator in reversed(decorators):
        func = decorator(func)
    return manifest_input_options(backend_option(func))


def prepare(
    ctx: click.Context,
    source: Source,
    targets: Sequence[str],
    replace: bool,
    prune: bool,
) -> Prepared:
    """The batch service's plan for the command's flags, on the deployment of the global flags."""
    from runner import batch

    options = plan_options(targets, replace, prune)
    given = bool(targets or replace or prune)
    return batch.prepare(global_options(ctx), source, options, options_given=given)


def source(
    file: str, variables: Sequence[str], env_names: Sequence[str], backend: str = "auto"
) -> Source:
    from runner.batch import Source

    return Source(file, variables, env_names, backend=backend)


def plan_options(targets: Sequence[str], replace: bool, prune: bool) -> PlanOptions:
    from runner.plan import PlanOptions

    return PlanOptions(replace=replace, prune=prune, targets=frozenset(targets))


def plan_header(prepared: Prepared, *, counted: bool = True) -> str:
    """`Batch 'nightly' (3 tasks) on Tasks (auto: ...) against Coder v2.34.2 at <url>:`."""
    observation = prepared.observation
    count = len(prepared.batch.tasks)
    tasks = f" ({count} task{'s' if count != 1 else ''})" if counted else ""
    return safe_text(
        f"Batch {prepared.batch.name!r}{tasks} on {backend_label(prepared)} against "
        f"Coder {observation.server_version} at {observation.dashboard_url}:"
    )


def backend_label(prepared: Prepared) -> str:
    """`Tasks`, `Chats`, and under auto why: the kind of the backend the service picked."""
    kind = prepared.backend.kind
    name = "Chats" if kind == "chats" else "Tasks"
    if prepared.batch.backend != "auto":
        return f"{name} (backend: {kind})"
    why = "this server serves Tasks" if kind == "tasks" else "this server serves no Tasks"
    return f"{name} (auto: {why})"


@click.command("plan")
@click.argument("file", metavar="FILE")
@manifest_options
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format: Terraform-style text or the versioned plan document.",
)
@click.option("--out", "out", metavar="PLANFILE", help="Save the plan for `tasks apply PLANFILE`.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on errors.",
)
@click.option("--show-unchanged", is_flag=True, help="List tasks with nothing to do as well.")
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
    backend: str,
    targets: tuple[str, ...],
    replace: bool,
    prune: bool,
    output: str,
    out: str | None,
    detailed_exitcode: bool,
    show_unchanged: bool,
) -> None:
    """Show what `tasks apply FILE` would change, without changing anything.

    Symbols: + create, ~ send follow-ups, - delete, -/+ replace, ! drift (not acted on).
    """
    from runner import planfile
    from runner.render.plan import render_plan

    check_writable(out, "--out")
    prepared = prepare(ctx, source(file, variables, env_names, backend), targets, replace, prune)
    plan = prepared.plan
    document = planfile.plan_document(
        plan,
        prepared.batch,
        server_version=prepared.observation.server_version,
        server_url=prepared.observation.dashboard_url,
    )
    if output == "json":
        click.echo(planfile.dumps(document), nl=False)
    else:
        click.echo(plan_header(prepared))
        click.echo("")
        click.echo(render_plan(plan, show_unchanged=show_unchanged))
    if out:
        try:
            Path(out).write_text(planfile.dumps(document), encoding="utf-8")
        except OSError as error:
            raise TasksError(f"{out}: cannot write the plan: {error.strerror or error}") from error
        click.echo(f"Saved the plan to {out}; apply exactly it with `tasks apply {out}`.", err=True)
    if detailed_exitcode:
        ctx.exit(EXIT_CHANGES_PENDING if plan.has_changes else EXIT_OK)
