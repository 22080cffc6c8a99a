"""`tasks destroy FILE`: delete every task the batch owns, whoever owns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.batch_run import (
    plan_header,
    report_failure,
    report_interrupted,
    run_plan,
    source,
)
from runner.cli.context import global_options
from runner.cli.options import backend_option, confirm, manifest_input_options, run_options
from runner.errors import TasksError

if TYPE_CHECKING:
    from runner.batch import Prepared


@click.command("destroy")
@click.argument("file", metavar="FILE|PLANFILE")
@manifest_input_options
@backend_option
@run_options
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
    backend: str,
    yes: bool,
    parallelism: int,
    report_path: str | None,
    junit_path: str | None,
) -> None:
    """Delete every task the batch in FILE owns (its marked tasks), asking first unless --yes.

    Tasks made by hand, and tasks of other batches, are never touched.
    """
    from runner import batch
    from runner.execute import ExecuteSettings
    from runner.render.plan import render_plan
    from runner.report.finish import ReportFiles

    files = ReportFiles(report_path, junit_path, command_name="destroy")
    prepared: Prepared | None = None
    try:
        try:
            prepared = batch.prepare_destroy(
                global_options(ctx), source(file, variables, env_names, backend)
            )
        except TasksError as error:
            report_failure(error, file, files)
            raise
        click.echo(plan_header(prepared, counted=False))
        click.echo("")
        click.echo(render_plan(prepared.plan, destroying=True))
        if prepared.plan.has_changes:
            confirm(f"Delete these {prepared.plan.to_delete} task(s)?", yes=yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP before the plan runs
        ctx.exit(report_interrupted(stop, file, prepared, files))
    ctx.exit(run_plan(prepared, ExecuteSettings(parallelism=parallelism), files))
