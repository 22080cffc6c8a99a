"""`tasks destroy FILE`: delete every task the batch owns, whoever owns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.batch_run import plan_header, run_batch, source
from runner.cli.context import global_options
from runner.cli.options import BatchFlags, RunFlags, batch_flags, confirm, run_options

if TYPE_CHECKING:
    from runner.batch import Prepared


@click.command("destroy")
@click.argument("file", metavar="FILE|PLANFILE")
@batch_flags
@run_options
@click.pass_context
def command(ctx: click.Context, file: str, flags: BatchFlags, run: RunFlags) -> None:
    """Delete every task the batch in FILE owns (its marked tasks), asking first unless --yes.

    Tasks made by hand, and tasks of other batches, are never touched.
    """
    from runner import batch
    from runner.execute import ExecuteSettings
    from runner.render.plan import render_plan
    from runner.report.finish import ReportFiles

    def show(prepared: Prepared) -> bool:
        click.echo(plan_header(prepared, counted=False))
        click.echo("")
        click.echo(render_plan(prepared.plan, destroying=True))
        if prepared.plan.has_changes:
            confirm(f"Delete these {prepared.plan.to_delete} task(s)?", yes=run.yes)
        return True

    run_batch(
        ctx,
        file,
        ReportFiles(run.report_path, run.junit_path, command_name="destroy"),
        ExecuteSettings(parallelism=run.parallelism),
        lambda: batch.prepare_destroy(global_options(ctx), source(file, flags)),
        show,
    )
