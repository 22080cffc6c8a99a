"""`tasks destroy FILE`: delete every task the batch owns, whoever owns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.commands.apply import report_failure, report_interrupted, run_options, run_plan
from runner.cli.commands.plan import source
from runner.cli.context import global_options
from runner.cli.options import backend_option, confirm, manifest_input_options
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
    from runner.cli.commands.plan import plan_header
    from runner.execute import ExecuteSettings
    from runner.render.plan import render_plan

    prepared: Prepared | None = None
    try:
        try:
            prepared = batch.prepare_destroy(
                global_options(ctx), source(file, variables, env_names, backend)
            )
        except TasksError as error:
            report_failure(
                error, file, report_path=report_path, junit_path=junit_path, command_name="destroy"
            )
            raise
        click.echo(plan_header(prepared, counted=False))
        click.echo("")
        click.echo(render_plan(prepared.plan, destroying=True))
        if prepared.plan.has_changes:
            confirm(f"Delete these {prepared.plan.to_delete} task(s)?", yes=yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP before the plan runs
        ctx.exit(
            report_interrupted(
                stop,
                file,
                prepared,
                command_name="destroy",
                report_path=report_path,
                junit_path=junit_path,
            )
        )
    code = run_plan(
        prepared,
        ExecuteSettings(parallelism=parallelism),
        report_path=report_path,
        junit_path=junit_path,
        command_name="destroy",
    )
    ctx.exit(code)
