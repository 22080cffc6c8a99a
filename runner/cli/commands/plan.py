"""`tasks plan FILE`: show what `apply` would change."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.batch_run import plan_header, prepare
from runner.cli.options import BatchFlags, check_writable, format_option, plan_flags
from runner.errors import EXIT_CHANGES_PENDING, EXIT_OK, TasksError


@click.command("plan")
@click.argument("file", metavar="FILE")
@plan_flags
@format_option(
    ("text", "json"), "Output format: Terraform-style text or the versioned plan document."
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
    flags: BatchFlags,
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
    prepared = prepare(ctx, file, flags)
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
