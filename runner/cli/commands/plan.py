"""`tasks plan FILE`: show what `apply` would change. Also the pipeline `apply` and `destroy` share.

The pipeline: load the manifest (or a saved plan), preflight, observe, plan.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner.cli.context import global_options
from runner.cli.manifest_options import manifest_input_options
from runner.cli.options import check_writable
from runner.errors import EXIT_CHANGES_PENDING, EXIT_OK, InvalidInputError, TasksError
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.coder.client import CoderClient
    from runner.manifest.model import Batch
    from runner.observe import Observation
    from runner.plan import Plan, PlanOptions
    from runner.planfile import SavedPlan
    from runner.preflight import ResolvedTask

F = TypeVar("F", bound=Callable[..., Any])

#: Largest manifest or plan file read (the loader bounds manifests itself too).
MAX_INPUT_BYTES = 10 * 1024 * 1024


@dataclass
class Prepared:
    """A batch, what the deployment holds for it, and the plan between them."""

    client: CoderClient
    batch: Batch
    observation: Observation
    resolved: dict[str, ResolvedTask]
    plan: Plan
    saved: SavedPlan | None = None


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
    return manifest_input_options(func)


def read_source(path: str) -> str:
    """The text of a manifest or plan file; a missing or unreadable file is invalid input."""
    file = Path(path)
    try:
        if file.is_dir():
            raise InvalidInputError(f"{path}: is a directory, not a manifest or plan file")
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise InvalidInputError(f"{path}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InvalidInputError(f"{path}: cannot read: {error.strerror or error}") from error


def load_input(
    path: str, variables: Sequence[str], env_names: Sequence[str]
) -> tuple[Batch, SavedPlan | None]:
    """A manifest loaded and rendered, or a saved plan (then --var/--env must not be given)."""
    from runner import planfile

    text = read_source(path)
    if planfile.looks_like_plan(text):
        if variables or env_names:
            raise InvalidInputError(
                f"{path} is a saved plan: its tasks are already rendered, so --var and --env "
                "do not apply"
            )
        saved = planfile.load_plan(path, text)
        return saved.batch, saved
    from runner.manifest import load_batch
    from runner.manifest.variables import parse_var_options

    batch = load_batch(
        path, variables=parse_var_options(variables), env_names=env_names, environ=os.environ
    )
    return batch, None


def prepare(
    ctx: click.Context,
    path: str,
    *,
    variables: Sequence[str] = (),
    env_names: Sequence[str] = (),
    options: PlanOptions,
    options_given: bool = False,
) -> Prepared:
    """Load, preflight, observe and plan. A saved plan brings its own options."""
    from runner.observe import observe
    from runner.plan import make_plan
    from runner.preflight import preflight, task_key

    batch, saved = load_input(path, variables, env_names)
    if saved is not None:
        if options_given:
            raise InvalidInputError(
                f"{path} is a saved plan: it carries its own --target, --replace and --prune"
            )
        options = saved.options
    client = global_options(ctx).client()
    resolved = preflight(client, batch.tasks)
    owners = {t.owner: resolved[task_key(t)].owner for t in batch.tasks}
    observation = observe(client, batch, owners=owners, all_visible=options.prune)
    fingerprint = observation.fingerprint(batch.name, [t.coder_name for t in batch.tasks])
    plan = make_plan(batch, observation, options, resolved, fingerprint=fingerprint)
    return Prepared(client, batch, observation, resolved, plan, saved)


def plan_options(targets: Sequence[str], replace: bool, prune: bool) -> PlanOptions:
    from runner.plan import PlanOptions

    return PlanOptions(replace=replace, prune=prune, targets=frozenset(targets))


def plan_header(prepared: Prepared) -> str:
    """`Batch 'nightly' (3 tasks) against Coder v2.34.2 at <url>:`."""
    observation = prepared.observation
    count = len(prepared.batch.tasks)
    return safe_text(
        f"Batch {prepared.batch.name!r} ({count} task{'s' if count != 1 else ''}) against "
        f"Coder {observation.server_version} at {observation.dashboard_url}:"
    )


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
    prepared = prepare(
        ctx,
        file,
        variables=variables,
        env_names=env_names,
        options=plan_options(targets, replace, prune),
        options_given=bool(targets or replace or prune),
    )
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
